import type { Logger } from '../../observability/logger.ts';
import type { Queryable } from '../../store/pool.ts';
import type { ConnectionTestReport } from '../connector.ts';
import type { SamlConfig } from './config.ts';
import { IdpMetadataSource } from './idp-metadata-source.ts';

/** A SAML connector's connection test: reading the IdP's metadata is what can fail. */
export async function testIdpMetadata(
  connectorId: string,
  config: SamlConfig,
  deps: { db: Queryable; log: Logger; now: () => Date },
): Promise<ConnectionTestReport> {
  const started = performance.now();
  const source = new IdpMetadataSource({
    connectorId,
    config,
    db: deps.db,
    log: deps.log,
    now: deps.now,
  });
  try {
    const idp = await source.descriptor();
    return {
      ok: true,
      ...(config.idpMetadataUrl !== undefined && { url: config.idpMetadataUrl }),
      steps: [
        {
          step: 'idp metadata',
          ok: true,
          detail: `IdP ${idp.entityId}: single sign-on at ${idp.ssoRedirectUrl}, ${idp.signingCertificates.length} signing certificate(s)`,
          durationMs: Math.round(performance.now() - started),
        },
      ],
    };
  } catch (error) {
    const file = config.idpMetadataFile;
    if (file !== undefined)
      deps.log.warn(
        { connector: connectorId, err: { message: (error as Error).message } },
        'IdP metadata file unusable (connection test)',
      );
    return {
      ok: false,
      steps: [
        {
          step: 'idp metadata',
          ok: false,
          // One message whatever is wrong with a file (missing, unreadable, not metadata): the admin
          // API must not tell its callers which paths exist on Lock's server. The log has the reason.
          detail:
            file === undefined
              ? (error as Error).message
              : `SAML connector ${connectorId}: idpMetadataFile ${file} is not a readable file of usable IdP metadata (the reason is in Lock's log)`,
          durationMs: Math.round(performance.now() - started),
        },
      ],
    };
  }
}
