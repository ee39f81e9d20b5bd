// The person's own Lock sign-in sessions: listed with what Lock saw of each browser, ended one at a
// time or all but the current one. Ending a session ends what was issued in it (grants, codes,
// refresh tokens), the /account page sessions bound to it, and tells its clients (back-channel).
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import type { LogoutNotice } from '../oidc/backchannel-logout.ts';
import { deleteAccountSessionsOfLockSessions } from '../store/account-sessions.ts';
import {
  type EndedSession,
  endSessionsOfAccount,
  type LockSession,
  listSessionsOfAccount,
} from '../store/lock-sessions.ts';
import { type Queryable, tx } from '../store/pool.ts';
import { type AccountPerson, type AccountRequest, accountAudit } from './account-context.ts';

export type { LockSession };

export function listOwnSessions(db: Queryable, person: AccountPerson): Promise<LockSession[]> {
  return listSessionsOfAccount(db, person.sub);
}

/** Back-channel notices for the clients of ended sessions. */
export function logoutNoticesOf(person: AccountPerson, ended: EndedSession[]): LogoutNotice[] {
  return ended.flatMap((session) =>
    Object.entries(session.sids).map(([clientId, sid]) => ({
      clientId,
      sub: person.sub,
      sid,
      trigger: 'account.session_ended' as const,
    })),
  );
}

/**
 * Ends one of the person's sessions (`only`) or all but the current one (`except`), inside `db`'s
 * transaction; a uid that is not one of theirs ends nothing. The caller audits.
 */
export async function endOwnSessions(
  db: Queryable,
  person: AccountPerson,
  which: { only: string } | { except: string },
): Promise<EndedSession[]> {
  const ended = await endSessionsOfAccount(db, person.sub, which);
  await deleteAccountSessionsOfLockSessions(
    db,
    ended.map((session) => session.uid),
  );
  return ended;
}

/** The person ends one session (or all others): audited; none ended is a refusal, also audited. */
export async function endSessionsByPerson(
  pool: pg.Pool,
  person: AccountPerson,
  request: AccountRequest,
  which: { only: string } | { except: string },
): Promise<{ ended: number; notices: LogoutNotice[] }> {
  return tx(pool, async (db) => {
    const ended = await endOwnSessions(db, person, which);
    const all = 'except' in which;
    await recordAuditEvent(db, {
      ...accountAudit(person, request),
      type: all ? 'account.sessions.ended_others' : 'account.session.ended',
      outcome: ended.length > 0 || all ? 'success' : 'failure',
      ...(ended.length === 0 && !all && { reason: 'no session of this account with that id' }),
      details: { ended: ended.length, ...(!all && { sessionUid: which.only }) },
    });
    return { ended: ended.length, notices: logoutNoticesOf(person, ended) };
  });
}
