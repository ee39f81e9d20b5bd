import { z } from 'zod';
import { entityName, evenWithOtherProblems } from './schema-checks.ts';

export const CONNECTOR_TYPES = ['local', 'ldap', 'saml'] as const;

/**
 * Checks a connector's `config` under its type's own schema (the connector types know those):
 * adds each problem to `ctx` at `config.…` and answers the parsed config. It reads `connector`
 * defensively: it runs even when other members failed.
 */
export type ConnectorConfigCheck = (
  connector: unknown,
  ctx: z.RefinementCtx,
) => Record<string, unknown> | undefined;

/** Where a person signs in: Lock's own accounts, a directory or an identity provider. */
export const connectorEnvelopeSchema = z.strictObject({
  id: entityName,
  type: z.enum(CONNECTOR_TYPES),
  name: z.string().min(1).max(100),
  config: z.record(z.string(), z.unknown()).default({}),
});

/** The connector schema whose `config` is checked by `checkConfig` (the model does not know the types' configs). */
export function connectorSchemaWith(checkConfig: ConnectorConfigCheck) {
  return connectorEnvelopeSchema
    .superRefine((connector, ctx) => void checkConfig(connector, ctx), evenWithOtherProblems)
    .transform((connector, ctx) => ({ ...connector, config: checkConfig(connector, ctx)! }));
}

export type ConnectorSchema = ReturnType<typeof connectorSchemaWith>;
export type ConnectorDecl = z.output<ConnectorSchema>;
