import { connectorTypeModule } from '../connectors/registry.ts';
import type { Queryable } from '../store/pool.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import type { ConnectionTestReport } from './connector-test.ts';

/**
 * Where a connector's test went, for its audit event: the members that say which server and how
 * it is trusted (never a secret); long values (inline PEM, metadata XML) by their size only.
 */
function testTarget(connector: { type: string; config: Record<string, unknown> }): Record<string, unknown> {
  const members = connectorTypeModule(connector.type)?.upstreamSecrets.target ?? [];
  return Object.fromEntries(
    members
      .filter((member) => connector.config[member] !== undefined)
      .map((member) => {
        const value = connector.config[member];
        return [
          member,
          typeof value === 'string' && value.length > 300 ? `(${value.length} characters)` : value,
        ];
      }),
  );
}

/** Audits a connection test or a save its test refused: who, which connector, where to, the outcome. */
export async function recordTest(
  db: Queryable,
  by: AdminActor,
  event: {
    type: 'admin.connector.tested' | 'admin.connector.save_refused';
    connector: { id: string; type: string; config: Record<string, unknown> };
    draft: boolean;
    report: ConnectionTestReport;
  },
): Promise<void> {
  const failed = event.report.steps.find((step) => !step.ok);
  await recordAdminChange(db, by, {
    type: event.type,
    subject: event.connector.id,
    outcome: event.report.ok ? 'success' : 'failure',
    details: {
      draft: event.draft,
      target: testTarget(event.connector),
      ok: event.report.ok,
      ...(failed && { failedStep: failed.step }),
    },
  });
}
