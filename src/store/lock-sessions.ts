// A person's Lock sign-in sessions (oidc-provider's Session payloads in oidc_payloads), with what
// Lock saw of their browser (session_activity, migration 0031), for /account: list them, end one
// or all others. Every statement names the account: a session id alone never reaches a row.
import type { Queryable } from './pool.ts';

export interface LockSession {
  /** oidc-provider's Session `uid` (stable for the session's life; not the cookie value). */
  uid: string;
  /** The last sign-in in this session (`auth_time`). */
  loginTs?: Date;
  amr: string[];
  /** Clients the person signed in to in this session. */
  clients: string[];
  expiresAt?: Date;
  userAgent?: string;
  ip?: string;
  firstSeenAt?: Date;
  lastSeenAt?: Date;
}

const LIVE = "s.model = 'Session' AND (s.expires_at IS NULL OR s.expires_at > now())";

/** The account's live sessions, most recently used first. */
export async function listSessionsOfAccount(db: Queryable, sub: string): Promise<LockSession[]> {
  const { rows } = await db.query<{
    uid: string;
    login_ts: string | null;
    amr: string[] | null;
    clients: string[] | null;
    expires_at: Date | null;
    user_agent: string | null;
    ip: string | null;
    first_seen_at: Date | null;
    last_seen_at: Date | null;
  }>(
    `SELECT s.uid, s.payload ->> 'loginTs' AS login_ts,
            ARRAY(SELECT jsonb_array_elements_text(coalesce(s.payload -> 'amr', '[]'::jsonb))) AS amr,
            ARRAY(SELECT jsonb_object_keys(coalesce(s.payload -> 'authorizations', '{}'::jsonb))) AS clients,
            s.expires_at, a.user_agent, a.ip, a.first_seen_at, a.last_seen_at
       FROM oidc_payloads AS s
       LEFT JOIN session_activity AS a ON a.session_uid = s.uid AND a.account_id = $1
      WHERE ${LIVE} AND s.uid IS NOT NULL AND s.payload ->> 'accountId' = $1
      ORDER BY coalesce(a.last_seen_at, to_timestamp((s.payload ->> 'loginTs')::float8)) DESC NULLS LAST`,
    [sub],
  );
  return rows.map((row) => ({
    uid: row.uid,
    ...(row.login_ts !== null && { loginTs: new Date(Number(row.login_ts) * 1000) }),
    amr: row.amr ?? [],
    clients: row.clients ?? [],
    ...(row.expires_at !== null && { expiresAt: row.expires_at }),
    ...(row.user_agent !== null && { userAgent: row.user_agent }),
    ...(row.ip !== null && { ip: row.ip }),
    ...(row.first_seen_at !== null && { firstSeenAt: row.first_seen_at }),
    ...(row.last_seen_at !== null && { lastSeenAt: row.last_seen_at }),
  }));
}

/** One ended session: whom to tell (client → the `sid` it was given), for back-channel logout. */
export interface EndedSession {
  uid: string;
  sids: Record<string, string>;
}

/**
 * Ends sessions of account `sub` — the one whose uid is `only`, or every one but `except` — and
 * everything issued in them: their grants with each grant's codes and tokens (refresh tokens
 * included), and whatever else names the session. A uid of another account matches nothing.
 */
export async function endSessionsOfAccount(
  db: Queryable,
  sub: string,
  which: { only: string } | { except: string },
): Promise<EndedSession[]> {
  const { rows } = await db.query<{ uid: string; sids: Record<string, string> | null }>(
    `WITH ended AS (
       DELETE FROM oidc_payloads AS s
        WHERE s.model = 'Session' AND s.payload ->> 'accountId' = $1 AND s.uid IS NOT NULL
          AND ($2::text IS NULL OR s.uid = $2) AND ($3::text IS NULL OR s.uid <> $3)
        RETURNING s.uid, s.payload
     ), grants AS (
       SELECT client.value ->> 'grantId' AS grant_id
         FROM ended, jsonb_each(coalesce(ended.payload -> 'authorizations', '{}'::jsonb)) AS client
        WHERE client.value ? 'grantId'
     ), issued AS (
       DELETE FROM oidc_payloads AS p
        WHERE ((p.model = 'Grant' AND p.id IN (SELECT grant_id FROM grants))
               OR p.grant_id IN (SELECT grant_id FROM grants)
               OR (p.payload ->> 'sessionUid' IN (SELECT uid FROM ended)))
          AND p.payload ->> 'accountId' = $1
     )
     SELECT ended.uid,
            (SELECT jsonb_object_agg(client.key, client.value ->> 'sid')
               FROM jsonb_each(coalesce(ended.payload -> 'authorizations', '{}'::jsonb)) AS client
              WHERE client.value ? 'sid') AS sids
       FROM ended`,
    [sub, 'only' in which ? which.only : null, 'only' in which ? null : which.except],
  );
  await db.query('DELETE FROM session_activity WHERE session_uid = ANY($1) AND account_id = $2', [
    rows.map((row) => row.uid),
    sub,
  ]);
  return rows.map((row) => ({ uid: row.uid, sids: row.sids ?? {} }));
}

/** Records that session `uid` of `accountId` answered an authorization from this browser now. */
export async function recordSessionActivity(
  db: Queryable,
  activity: { sessionUid: string; accountId: string; userAgent: string; ip: string; at: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO session_activity (session_uid, account_id, user_agent, ip, first_seen_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (session_uid) DO UPDATE SET user_agent = $3, ip = $4, last_seen_at = $5
       WHERE session_activity.account_id = $2`,
    [activity.sessionUid, activity.accountId, activity.userAgent.slice(0, 512), activity.ip, activity.at],
  );
}
