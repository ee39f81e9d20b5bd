import { recordAuditEvent } from '../../audit/audit.ts';
import { variablesOf } from '../../config/declarative-file.ts';
import type { DeclarativeConfig } from '../../config/declarative-schema.ts';
import { isSecretMember } from '../../connectors/connector-secrets.ts';
import {
  type DeclarativeSecretVariable,
  replaceDeclarativeSecretVariables,
} from '../../store/declarative-secret-variables.ts';
import type { Queryable } from '../../store/pool.ts';

/**
 * Which environment variable each secret of the declarative file came from. Lock keeps secrets
 * sealed and cannot export them; `lock config export` writes a `${VARIABLE}` in their place, and
 * with these names it writes the very variables the file was applied with, so that the export
 * applies back in the same environment without renaming anything.
 *
 * They are configuration, kept in their own table (src/store/declarative-secret-variables.ts) for
 * as long as the entity: each apply replaces those of the entities it declares, in its transaction,
 * and an entity's names go with it. The apply's audit event names them too, as a fact of who
 * applied what; nothing reads them back from the audit log.
 */

const APPLIED_EVENT = 'config.applied';
const CLIENT_SECRET = /^clients\[(\d+)\]\.clientSecret$/;
const CONNECTOR_MEMBER = /^connectors\[(\d+)\]\.config\.(.+)$/;

/** The secrets of a parsed file that were written as exactly `${NAME}`. */
export function secretVariablesOf(config: DeclarativeConfig): DeclarativeSecretVariable[] {
  return variablesOf(config).flatMap(({ path, name }): DeclarativeSecretVariable[] => {
    const client = CLIENT_SECRET.exec(path);
    if (client) {
      const id = config.clients[Number(client[1])]?.clientId;
      return id === undefined ? [] : [{ kind: 'client', id, path: 'clientSecret', variable: name }];
    }
    const connector = CONNECTOR_MEMBER.exec(path);
    if (connector && isSecretMember(connector[2]!.split('.').at(-1)!)) {
      const id = config.connectors[Number(connector[1])]?.id;
      return id === undefined ? [] : [{ kind: 'connector', id, path: connector[2]!, variable: name }];
    }
    return [];
  });
}

/**
 * After the file's clients and connectors are written (in the apply's transaction): their secrets'
 * variable names become the file's, and the apply is audited with those names (never values).
 */
export async function recordApplied(
  db: Queryable,
  config: DeclarativeConfig,
  changes: { created: number; updated: number; removed: number },
): Promise<void> {
  const secretVariables = secretVariablesOf(config);
  await replaceDeclarativeSecretVariables(
    db,
    [
      ...config.clients.map(({ clientId }) => ({ kind: 'client' as const, id: clientId })),
      ...config.connectors.map(({ id }) => ({ kind: 'connector' as const, id })),
    ],
    secretVariables,
  );
  await recordAuditEvent(db, {
    type: APPLIED_EVENT,
    outcome: 'success',
    actor: 'config',
    details: { ...changes, secretVariables },
  });
}
