import { type ConnectorTypeModule, loadedImplementation } from '../connector.ts';
import { ldapClaimNames, ldapConfigSchema } from './config.ts';
import type * as Implementation from './ldap-connector.ts';

let implementation: typeof Implementation | undefined;

/** A directory: OpenLDAP, Active Directory. */
export const ldap = {
  type: 'ldap',
  configSchema: ldapConfigSchema,
  load: async () => {
    implementation ??= await import('./ldap-connector.ts');
  },
  create: (stored, context) =>
    new (loadedImplementation('ldap', implementation).LdapConnector)({
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
