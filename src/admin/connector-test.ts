import {
  type ConnectionTestReport,
  type ConnectorInfo,
  isTestableConnector,
} from '../connectors/connector.ts';
import { buildConnectors, type ConnectorDependencies } from '../connectors/registry.ts';
import type { StoredConnector } from '../store/catalog-repositories.ts';

export type { ConnectionTestReport };

const failed = (step: string, detail: string): ConnectionTestReport => ({
  ok: false,
  steps: [{ step, ok: false, detail, durationMs: 0 }],
});

/**
 * Builds the connector from `stored` (secrets sealed, as in the database) on its own and tries
 * its upstream: the connector's own `testConnection` where it has one.
 */
export async function testConnector(
  stored: StoredConnector,
  deps: ConnectorDependencies,
  options: { username?: string } = {},
): Promise<ConnectionTestReport> {
  let connector: ConnectorInfo | undefined;
  try {
    connector = (await buildConnectors([stored], deps)).get(stored.id);
  } catch (error) {
    return failed('configuration', (error as Error).message);
  }
  if (!connector) return failed('configuration', `connector type ${stored.type} is not available`);
  try {
    if (isTestableConnector(connector)) return await connector.testConnection(options);
    return {
      ok: true,
      steps: [
        {
          step: 'configuration',
          ok: true,
          detail: `${stored.type} connectors need no connection`,
          durationMs: 0,
        },
      ],
    };
  } finally {
    await (connector as { close?: () => Promise<void> }).close?.();
  }
}
