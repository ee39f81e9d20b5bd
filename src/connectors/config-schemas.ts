import { z } from 'zod';
import { connectorSchemaWith } from '../model/connector.ts';
import { isObject } from '../model/schema-checks.ts';
import { ldapConfigSchema } from './ldap/config.ts';
import { samlConfigSchema } from './saml/config.ts';

/**
 * The schema of `connectors[].config` per connector type: the declarative file, the admin API and
 * the CLI all validate a connector's config with these. A connector type registers its schema here.
 */
export const CONNECTOR_CONFIG_SCHEMAS = {
  local: z.strictObject({
    /** false turns Lock's own accounts off (refused while it would leave no lock_admin able to sign in). */
    enabled: z.boolean().default(true),
  }),
  ldap: ldapConfigSchema,
  saml: samlConfigSchema,
} satisfies Record<string, z.ZodType>;

export type ConnectorType = keyof typeof CONNECTOR_CONFIG_SCHEMAS;

/**
 * Per type: the config members that say which upstream a connector talks to and how it trusts it
 * (`target`), and the secrets it sends there (`secrets`). A stored secret is only ever reused for
 * the upstream it was saved for: a change to any `target` member needs each of `secrets` again.
 */
export const CONNECTOR_TARGETS: Record<ConnectorType, { target: string[]; secrets: string[] }> = {
  local: { target: [], secrets: [] },
  ldap: {
    target: ['url', 'urls', 'startTLS', 'caCert', 'caFile', 'insecureSkipVerify', 'insecureNoTLS'],
    secrets: ['bindPassword'],
  },
  // Lock's SP private keys never leave Lock (the IdP only ever sees signatures): none is bound to the IdP.
  saml: { target: ['idpMetadataUrl', 'idpMetadataFile', 'idpMetadataXml', 'idpEntityId'], secrets: [] },
};
export type ConnectorConfig<T extends ConnectorType> = z.output<(typeof CONNECTOR_CONFIG_SCHEMAS)[T]>;

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

/** A connector with its `config` checked under its type's schema: the admin API, the CLI and the declarative file parse with it. */
export const connectorSchema = connectorSchemaWith(checkConnectorConfig);
