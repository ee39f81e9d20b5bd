import type { z } from 'zod';
import { isObject } from './config-checks.ts';
import { ldapConfigSchema } from './ldap/config.ts';
import { localConfigSchema } from './local/config.ts';
import { samlConfigSchema } from './saml/config.ts';

/**
 * The schema of `connectors[].config` per connector type (each type module's `configSchema`): the
 * declarative file, the admin API and the CLI all validate a connector's config with these. Read
 * from the types' config modules, not their index.ts: the declarative file's schema is below the
 * connectors (the store imports it), and a type's index.ts imports the store.
 */
export const CONNECTOR_CONFIG_SCHEMAS = {
  local: localConfigSchema,
  ldap: ldapConfigSchema,
  saml: samlConfigSchema,
} satisfies Record<string, z.ZodType>;

export type ConnectorType = keyof typeof CONNECTOR_CONFIG_SCHEMAS;

/**
 * The problems of a connector's `config` under its type's schema, added to `ctx` at `config.…`,
 * and the parsed config. Reads `connector` defensively: it is checked even when its other members
 * failed (a missing `name` must not hide a missing `config.url`).
 */
export function checkConnectorConfig(
  connector: unknown,
  ctx: z.RefinementCtx,
): Record<string, unknown> | undefined {
  if (!isObject(connector) || !Object.hasOwn(CONNECTOR_CONFIG_SCHEMAS, String(connector.type))) return;
  const schema = CONNECTOR_CONFIG_SCHEMAS[connector.type as ConnectorType];
  const parsed = schema.safeParse(connector.config ?? {});
  if (parsed.success) return parsed.data as Record<string, unknown>;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ ...issue, path: ['config', ...issue.path] } as never);
  return undefined;
}
