// A local account changes its own password on /account: the current password first (counted
// against the account's lockout as a sign-in is), then Lock's password policy for the new one.
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import type { LogoutNotice } from '../oidc/backchannel-logout.ts';
import type { BruteForceGuard } from '../security/brute-force.ts';
import { checkPasswordPolicy, hashPassword, type PasswordVerifyGate } from '../security/passwords.ts';
import { tx } from '../store/pool.ts';
import { findCredentials, setPasswordHash } from '../store/users.ts';
import { type AccountPerson, type AccountRequest, accountAudit } from './account-context.ts';
import { endOwnSessions, logoutNoticesOf } from './lock-sessions.ts';

export interface PasswordChange {
  current: string;
  next: string;
  /** End every other session of the account (and what was issued in them). */
  endOtherSessions: boolean;
  /** The Lock session the change is made in: kept. */
  currentSessionUid: string;
}

export type PasswordChangeOutcome =
  | { status: 'changed'; endedSessions: number; notices: LogoutNotice[] }
  | { status: 'wrong-current' }
  | { status: 'locked-out' }
  | { status: 'refused'; reason: string }
  | { status: 'not-local' };

export async function changeOwnPassword(
  deps: { pool: pg.Pool; verifier: PasswordVerifyGate; bruteForce: BruteForceGuard },
  person: AccountPerson,
  request: AccountRequest,
  change: PasswordChange,
): Promise<PasswordChangeOutcome> {
  const { pool, verifier, bruteForce } = deps;
  if (person.localUserId === undefined) return { status: 'not-local' };
  const audit = { ...accountAudit(person, request), type: 'account.password.changed' };
  const policy = checkPasswordPolicy(change.next);
  if (!policy.ok) return { status: 'refused', reason: policy.reason };
  const account = { connector: person.connector, upstreamId: person.localUserId, username: person.username };
  const attempt = { username: person.username, address: request.ip, account };
  // Counted before the password is looked at: a stolen page session cannot guess at leisure.
  const admission = await bruteForce.reserveForAccount(attempt);
  if (!admission.admitted) {
    await recordAuditEvent(pool, { ...audit, outcome: 'failure', reason: `${admission.scope} locked out` });
    return { status: 'locked-out' };
  }
  const credentials = await findCredentials(pool, person.username);
  const valid =
    credentials?.user.id === person.localUserId && credentials.passwordHash !== null
      ? (await verifier.verifyPassword(credentials.passwordHash, change.current)).valid
      : await verifier.verifyAgainstDummy(change.current);
  if (!valid) {
    await recordAuditEvent(pool, { ...audit, outcome: 'failure', reason: 'wrong current password' });
    return { status: 'wrong-current' };
  }
  await bruteForce.releaseAttempt(attempt);
  const passwordHash = await hashPassword(change.next);
  return tx(pool, async (db) => {
    await setPasswordHash(db, person.localUserId!, passwordHash);
    const ended = change.endOtherSessions
      ? await endOwnSessions(db, person, { except: change.currentSessionUid })
      : [];
    await recordAuditEvent(db, {
      ...audit,
      outcome: 'success',
      details: { endedSessions: ended.length },
    });
    return {
      status: 'changed' as const,
      endedSessions: ended.length,
      notices: logoutNoticesOf(person, ended),
    };
  });
}
