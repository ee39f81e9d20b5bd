import type { z } from 'zod';
import { connectorSchemaWith } from '../model/connector.ts';
import { isObject } from '../model/schema-checks.ts';
import { CONNECTOR_TYPE_MODULES, CONNECTOR_TYPE_NAMES, connectorTypeModule } from './registry.ts';

type Module = (typeof CONNECTOR_TYPE_MODULES)[number];
export type ConnectorType = Module['type'];

/**
 * The schema of `connectors[].config` per connector type (each type module's `configSchema`): the
 * declarative file, the admin API and the CLI all validate a connector's config with these.
 */
export const CONNECTOR_CONFIG_SCHEMAS = Object.fromEntries(
  CONNECTOR_TYPE_MODULES.map((module) => [module.type, module.configSchema]),
) as { [T in ConnectorType]: Extract<Module, { type: T }>['configSchema'] };

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
  if (!isObject(connector)) return;
  const module = connectorTypeModule(String(connector.type));
  if (!module) return;
  const parsed = module.configSchema.safeParse(connector.config ?? {});
  if (parsed.success) return parsed.data as Record<string, unknown>;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ ...issue, path: ['config', ...issue.path] } as never);
  return undefined;
}

/** A connector with its `config` checked under its type's schema: the admin API, the CLI and the declarative file parse with it. */
export const connectorSchema = connectorSchemaWith(CONNECTOR_TYPE_NAMES, checkConnectorConfig);
