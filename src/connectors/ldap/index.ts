import type { ConnectorTypeModule } from '../connector.ts';
import { ldapClaimNames, ldapConfigSchema } from './config.ts';
import { LdapConnector } from './ldap-connector.ts';

/** A directory: OpenLDAP, Active Directory. */
export const ldap = {
  type: 'ldap',
  configSchema: ldapConfigSchema,
  create: (stored, context) =>
    new LdapConnector({
      id: stored.id,
      name: stored.name,
      config: stored.config,
      log: context.log,
      now: context.now,
      ...(context.observeUpstream && { observeUpstream: context.observeUpstream }),
    }),
  upstreamSecrets: {
    target: ['url', 'urls', 'startTLS', 'caCert', 'caFile', 'insecureSkipVerify', 'insecureNoTLS'],
    secrets: ['bindPassword'],
  },
  claimNames: ldapClaimNames,
} satisfies ConnectorTypeModule<'ldap', typeof ldapConfigSchema>;
