import { recordAuditEvent } from '../../audit/audit.ts';
import { variablesOf } from '../../config/declarative-file.ts';
import type { DeclarativeConfig } from '../../config/declarative-schema.ts';
import { isSecretMember } from '../../connectors/connector-secrets.ts';
import { listAuditEvents } from '../../store/audit-events.ts';
import type { Queryable } from '../../store/pool.ts';

/**
 * Which environment variable each secret of the declarative file came from. Lock keeps secrets
 * sealed and cannot export them; `lock config export` writes a `${VARIABLE}` in their place, and
 * with these names it writes the very variables the file was applied with, so that the export
 * applies back in the same environment without renaming anything.
 *
 * Each apply records them (names only, never values) in its audit event `config.applied`; the
 * export reads the newest. A secret of the file can only change by applying a file (the API
 * refuses to edit what the file owns), so the newest apply names every secret the file still owns.
 */

export interface SecretVariable {
  kind: 'client' | 'connector';
  /** The client id or connector id. */
  id: string;
  /** `clientSecret`; a connector's config member as the export names it: `bindPassword`, `groupSearch.bindPassword`. */
  member: string;
  variable: string;
}

const APPLIED_EVENT = 'config.applied';
const CLIENT_SECRET = /^clients\[(\d+)\]\.clientSecret$/;
const CONNECTOR_MEMBER = /^connectors\[(\d+)\]\.config\.(.+)$/;

/** The secrets of a parsed file that were written as exactly `${NAME}`. */
export function secretVariablesOf(config: DeclarativeConfig): SecretVariable[] {
  return variablesOf(config).flatMap(({ path, name }): SecretVariable[] => {
    const client = CLIENT_SECRET.exec(path);
    if (client) {
      const id = config.clients[Number(client[1])]?.clientId;
      return id === undefined ? [] : [{ kind: 'client', id, member: 'clientSecret', variable: name }];
    }
    const connector = CONNECTOR_MEMBER.exec(path);
    if (connector && isSecretMember(connector[2]!.split('.').at(-1)!)) {
      const id = config.connectors[Number(connector[1])]?.id;
      return id === undefined ? [] : [{ kind: 'connector', id, member: connector[2]!, variable: name }];
    }
    return [];
  });
}

/** The apply's audit event, with the variable names of its secrets. */
export async function recordApplied(
  db: Queryable,
  config: DeclarativeConfig,
  changes: { created: number; updated: number; removed: number },
): Promise<void> {
  await recordAuditEvent(db, {
    type: APPLIED_EVENT,
    outcome: 'success',
    actor: 'config',
    details: { ...changes, secretVariables: secretVariablesOf(config) },
  });
}

/** The secret variables of the newest apply, looked up by `kind id member`. */
export async function appliedSecretVariables(
  db: Queryable,
): Promise<(secret: Omit<SecretVariable, 'variable'>) => string | undefined> {
  const [latest] = await listAuditEvents(db, { type: APPLIED_EVENT, limit: 1 });
  const recorded = Array.isArray(latest?.details.secretVariables)
    ? (latest.details.secretVariables as SecretVariable[])
    : [];
  const byKey = new Map(recorded.map((each) => [`${each.kind} ${each.id} ${each.member}`, each.variable]));
  return ({ kind, id, member }) => byKey.get(`${kind} ${id} ${member}`);
}
