import { z } from 'zod';
import { ldapConfigSchema } from './ldap/config.ts';
import { samlConfigSchema } from './saml/config.ts';

/**
 * The schema of `connectors[].config` per connector type: the declarative file, the admin API and
 * the CLI all validate a connector's config with these. A connector type registers its schema here.
 */
export const CONNECTOR_CONFIG_SCHEMAS = {
  local: z.strictObject({}),
  ldap: ldapConfigSchema,
  saml: samlConfigSchema,
} satisfies Record<string, z.ZodType>;

export type ConnectorType = keyof typeof CONNECTOR_CONFIG_SCHEMAS;
export type ConnectorConfig<T extends ConnectorType> = z.output<(typeof CONNECTOR_CONFIG_SCHEMAS)[T]>;
