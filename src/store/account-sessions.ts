// The /account page's sessions (migration 0031_account_sessions.sql). The cookie's random id never
// reaches this module: only its SHA-256 (`idHash`). A session counts only while the Lock sign-in
// session it is bound to (oidc-provider's Session, by uid) lives and is still the same person's.
import type { Queryable } from './pool.ts';

export interface AccountSession {
  idHash: string;
  sub: string;
  /** The Lock sign-in session (oidc-provider's Session `uid`) this page session came from. */
  sessionUid: string;
  /** When the person last proved who they are (the ID token's `auth_time`). */
  authTime: Date;
  amr: string[];
  createdAt: Date;
  expiresAt: Date;
}

interface Row {
  id_hash: string;
  sub: string;
  session_uid: string;
  auth_time: Date;
  amr: string[];
  created_at: Date;
  expires_at: Date;
}

const toSession = (row: Row): AccountSession => ({
  idHash: row.id_hash,
  sub: row.sub,
  sessionUid: row.session_uid,
  authTime: row.auth_time,
  amr: row.amr,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
});

export async function insertAccountSession(db: Queryable, session: AccountSession): Promise<void> {
  await db.query(
    `INSERT INTO account_sessions (id_hash, sub, session_uid, auth_time, amr, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      session.idHash,
      session.sub,
      session.sessionUid,
      session.authTime,
      session.amr,
      session.createdAt,
      session.expiresAt,
    ],
  );
}

/**
 * The live session of `idHash`, its expiry pushed to `idleUntil` (never past `maxUntil` of its
 * creation) in the same statement; undefined when it expired, or when its Lock sign-in session has
 * ended or now belongs to someone else (then it is deleted).
 */
export async function touchAccountSession(
  db: Queryable,
  idHash: string,
  now: Date,
  idleSeconds: number,
  maxAgeSeconds: number,
): Promise<AccountSession | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE account_sessions AS a
        SET expires_at = least($2::timestamptz + make_interval(secs => $3::int),
                               a.created_at + make_interval(secs => $4::int))
      WHERE a.id_hash = $1 AND a.expires_at > $2
        AND EXISTS (SELECT 1 FROM oidc_payloads AS s
                     WHERE s.model = 'Session' AND s.uid = a.session_uid
                       AND (s.expires_at IS NULL OR s.expires_at > now())
                       AND s.payload ->> 'accountId' = a.sub)
      RETURNING a.id_hash, a.sub, a.session_uid, a.auth_time, a.amr, a.created_at, a.expires_at`,
    [idHash, now, idleSeconds, maxAgeSeconds],
  );
  if (rows[0]) return toSession(rows[0]);
  await deleteAccountSession(db, idHash);
  return undefined;
}

export async function deleteAccountSession(db: Queryable, idHash: string): Promise<void> {
  await db.query('DELETE FROM account_sessions WHERE id_hash = $1', [idHash]);
}

/** Ends the account-page sessions bound to these Lock sign-in sessions. */
export async function deleteAccountSessionsOfLockSessions(
  db: Queryable,
  sessionUids: string[],
): Promise<void> {
  if (sessionUids.length === 0) return;
  await db.query('DELETE FROM account_sessions WHERE session_uid = ANY($1)', [sessionUids]);
}
