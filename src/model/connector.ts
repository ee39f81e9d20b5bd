import { z } from 'zod';
import { entityName, evenWithOtherProblems } from './schema-checks.ts';

/**
 * Checks a connector's `config` under its type's own schema (the connector types know those):
 * adds each problem to `ctx` at `config.…` and answers the parsed config. It reads `connector`
 * defensively: it runs even when other members failed.
 */
export type ConnectorConfigCheck = (
  connector: unknown,
  ctx: z.RefinementCtx,
) => Record<string, unknown> | undefined;

/**
 * Where a person signs in: Lock's own accounts, a directory or an identity provider. `types` are
 * the connector types this version has and `checkConfig` checks a `config` under its type's
 * schema: both come from the connectors layer (its registry), which the model does not know.
 */
export function connectorSchemaWith(
  types: readonly [string, ...string[]],
  checkConfig: ConnectorConfigCheck,
) {
  return z
    .strictObject({
      id: entityName,
      type: z.enum(types),
      name: z.string().min(1).max(100),
      config: z.record(z.string(), z.unknown()).default({}),
    })
    .superRefine((connector, ctx) => void checkConfig(connector, ctx), evenWithOtherProblems)
    .transform((connector, ctx) => ({ ...connector, config: checkConfig(connector, ctx)! }));
}

export type ConnectorSchema = ReturnType<typeof connectorSchemaWith>;
export type ConnectorDecl = z.output<ConnectorSchema>;
