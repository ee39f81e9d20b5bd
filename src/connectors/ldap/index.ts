import { type ConnectorTypeModule, loadedOnDemand } from '../connector.ts';
import { ldapClaimNames, ldapConfigSchema } from './config.ts';

/** A directory: OpenLDAP, Active Directory. */
export const ldap = {
  type: 'ldap',
  configSchema: ldapConfigSchema,
  ...loadedOnDemand(
    'ldap',
    () => import('./ldap-connector.ts'),
    ({ LdapConnector }, options) => new LdapConnector(options),
  ),
  upstreamSecrets: {
    target: ['url', 'urls', 'startTLS', 'caCert', 'caFile', 'insecureSkipVerify', 'insecureNoTLS'],
    secrets: ['bindPassword'],
  },
  claimNames: ldapClaimNames,
} satisfies ConnectorTypeModule<'ldap', typeof ldapConfigSchema>;
