import { z } from 'zod';
import { type ConnectorTypeModule, loadedOnDemand } from '../connector.ts';
import { samlClaimNames, samlConfigSchema } from './config.ts';

/** Where a SAML connector's IdP metadata comes from: exactly one of a URL or the XML itself. */
const idpMetadataImportSchema = z
  .strictObject({ url: samlConfigSchema.shape.idpMetadataUrl, xml: samlConfigSchema.shape.idpMetadataXml })
  .refine((source) => (source.url === undefined) !== (source.xml === undefined), {
    path: ['url'],
    message: 'give exactly one of url and xml',
  });

/** Lock as a SAML 2.0 service provider to one IdP. */
export const saml = {
  type: 'saml',
  configSchema: samlConfigSchema,
  ...loadedOnDemand(
    'saml',
    () => import('./saml-connector.ts'),
    ({ SamlConnector }, options) => new SamlConnector(options),
  ),
  // Lock's SP private keys never leave Lock (the IdP only ever sees signatures): none is bound to the IdP.
  upstreamSecrets: {
    target: ['idpMetadataUrl', 'idpMetadataFile', 'idpMetadataXml', 'idpEntityId'],
    secrets: [],
  },
  claimNames: samlClaimNames,
  redirect: {
    // A SAML Response with an encrypted assertion and a few certificates fits with room to spare.
    callbackRoute: { method: 'post', path: '/saml/:connector/acs', formLimit: 512 * 1024 },
    metadataPath: '/saml/:connector/metadata',
  },
  metadataImport: {
    schema: idpMetadataImportSchema,
    configWith: (config, source) => {
      const { idpMetadataUrl: _url, idpMetadataFile: _file, idpMetadataXml: _xml, ...rest } = config;
      return {
        ...rest,
        ...(source.url !== undefined ? { idpMetadataUrl: source.url } : { idpMetadataXml: source.xml }),
      };
    },
  },
} satisfies ConnectorTypeModule<'saml', typeof samlConfigSchema>;
