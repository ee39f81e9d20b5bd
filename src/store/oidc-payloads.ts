import type { Queryable } from './pool.ts';
import { accountStampSql } from './users.ts';

/** One stored oidc-provider model instance (a session, grant, code, token, …) as read. */
export interface PayloadRow {
  payload: Record<string, unknown>;
  consumed_at: Date | null;
}

export interface PayloadWrite {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  grantId: string | null;
  userCode: string | null;
  uid: string | null;
  /** Seconds from now; 0 = no expiry. */
  expiresIn: number;
}

const live = (table: string) => `(${table}.expires_at IS NULL OR ${table}.expires_at > now())`;
const LIVE = live('oidc_payloads');

/**
 * What a grant's revocation removes: everything oidc-provider issues under a grant (its
 * `revoke` helper's list), Lock's record of where its JWT and exchanged tokens come from (TokenOrigin), and the grant itself.
 */
const GRANT_MODELS = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'TokenOrigin',
];

export async function upsertPayload(db: Queryable, row: PayloadWrite): Promise<void> {
  await db.query(
    `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int > 0 THEN now() + make_interval(secs => $7::int) END)
     ON CONFLICT (model, id) DO UPDATE SET payload = $3, grant_id = $4, user_code = $5, uid = $6, expires_at = EXCLUDED.expires_at`,
    [row.model, row.id, row.payload, row.grantId, row.userCode, row.uid, row.expiresIn],
  );
}

/**
 * Writes a row only if no live row has its key (an expired one is replaced): false when one does.
 * The statement decides, so of two writers at once — in one process or two — exactly one wins.
 */
export async function insertPayloadOnce(db: Queryable, row: PayloadWrite): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int > 0 THEN now() + make_interval(secs => $7::int) END)
     ON CONFLICT (model, id) DO UPDATE SET payload = $3, grant_id = $4, user_code = $5, uid = $6,
       expires_at = EXCLUDED.expires_at
     WHERE oidc_payloads.expires_at IS NOT NULL AND oidc_payloads.expires_at <= now()`,
    [row.model, row.id, row.payload, row.grantId, row.userCode, row.uid, row.expiresIn],
  );
  return rowCount === 1;
}

/**
 * A rotation in one statement: consumes the token `consumedId` of `row.model` if nobody has yet and,
 * only then, writes `row` (its successor). Of several at once exactly one wins (the UPDATE's row
 * lock decides, as in consumePayloadOnce); a loser writes nothing and learns the grant to revoke.
 */
export async function consumeAndInsertSuccessor(
  db: Queryable,
  consumedId: string,
  row: PayloadWrite,
): Promise<{ consumed: true } | { consumed: false; grantId: string | undefined }> {
  const { rows } = await db.query<{ won: boolean; grant_id: string | null }>({
    // Named: each connection has PostgreSQL parse and plan it once (every refresh runs it).
    name: 'oidc-payloads-consume-and-insert-successor',
    text: `WITH won AS (
       UPDATE oidc_payloads SET consumed_at = now()
        WHERE model = $1 AND id = $8 AND consumed_at IS NULL
        RETURNING grant_id
     ), successor AS (
       INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
       SELECT $1::text, $2::text, $3::jsonb, $4::text, $5::text, $6::text,
              CASE WHEN $7::int > 0 THEN now() + make_interval(secs => $7::int) END
        WHERE EXISTS (SELECT FROM won)
       ON CONFLICT (model, id) DO UPDATE SET payload = $3, grant_id = $4, user_code = $5, uid = $6,
         expires_at = EXCLUDED.expires_at
     )
     SELECT true AS won, grant_id FROM won
     UNION ALL
     SELECT false, grant_id FROM oidc_payloads WHERE model = $1 AND id = $8 AND NOT EXISTS (SELECT FROM won)`,
    values: [row.model, row.id, row.payload, row.grantId, row.userCode, row.uid, row.expiresIn, consumedId],
  });
  const first = rows[0];
  if (first?.won) return { consumed: true };
  return { consumed: false, grantId: first?.grant_id ?? undefined };
}

export async function findPayload(db: Queryable, model: string, id: string): Promise<PayloadRow | undefined> {
  const { rows } = await db.query<PayloadRow>(
    `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND id = $2 AND ${LIVE}`,
    [model, id],
  );
  return rows[0];
}

/**
 * A code or refresh token with, in the same statement, its grant, the session it is bound to and
 * the stamp of the account it was issued to (accountStampSql): everything its redemption reads
 * before it writes, but the account itself, which AccountCache answers while its stamp holds.
 * `account` is absent when the token names no account, `{ stamp: undefined }` when the identity is
 * gone.
 */
export async function findGrantSource(
  db: Queryable,
  model: string,
  id: string,
): Promise<{
  source?: PayloadRow;
  grant?: PayloadRow;
  session?: PayloadRow;
  account?: { stamp: string | undefined };
}> {
  const { rows } = await db.query<{
    kind: 'source' | 'Grant' | 'Session' | 'Account';
    payload: unknown;
    consumed_at: Date | null;
  }>({
    // Named: each connection has PostgreSQL parse and plan it once (every refresh runs it).
    name: 'oidc-payloads-find-grant-source',
    text: `WITH source AS (
       SELECT payload, consumed_at, grant_id FROM oidc_payloads AS s WHERE model = $1 AND id = $2 AND ${live('s')}
     )
     SELECT 'source' AS kind, payload, consumed_at FROM source
     UNION ALL
     SELECT 'Grant', g.payload, g.consumed_at FROM source JOIN oidc_payloads AS g
       ON g.model = 'Grant' AND g.id = source.grant_id AND ${live('g')}
     UNION ALL
     SELECT 'Session', session.payload, session.consumed_at FROM source JOIN oidc_payloads AS session
       ON session.model = 'Session' AND session.uid = source.payload->>'sessionUid' AND ${live('session')}
     UNION ALL
     SELECT 'Account', to_jsonb((SELECT ${accountStampSql('i')} FROM identities AS i
                                  WHERE i.sub = source.payload->>'accountId')), NULL
       FROM source WHERE source.payload ? 'accountId'`,
    values: [model, id],
  });
  const kind = (name: string) => rows.find((row) => row.kind === name) as PayloadRow | undefined;
  const account = rows.find((row) => row.kind === 'Account');
  return {
    source: kind('source'),
    grant: kind('Grant'),
    session: kind('Session'),
    ...(account && { account: { stamp: typeof account.payload === 'string' ? account.payload : undefined } }),
  };
}

export async function findPayloadByUserCode(
  db: Queryable,
  model: string,
  userCode: string,
): Promise<PayloadRow | undefined> {
  const { rows } = await db.query<PayloadRow>(
    `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND user_code = $2 AND ${LIVE}`,
    [model, userCode],
  );
  return rows[0];
}

export async function findPayloadByUid(
  db: Queryable,
  model: string,
  uid: string,
): Promise<PayloadRow | undefined> {
  const { rows } = await db.query<PayloadRow>(
    `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND uid = $2 AND ${LIVE}`,
    [model, uid],
  );
  return rows[0];
}

/**
 * Marks a code or refresh token used, once: the statement itself decides which of concurrent
 * redemptions wins (row lock on the UPDATE, `consumed_at IS NULL` re-checked after it). The
 * winner gets `{ consumed: true }`; every other caller `{ consumed: false }` and the grant the
 * row belongs to, if it still exists, so that the loser can be treated as a reuse.
 */
export async function consumePayloadOnce(
  db: Queryable,
  model: string,
  id: string,
): Promise<{ consumed: true } | { consumed: false; grantId: string | undefined }> {
  const { rows } = await db.query<{ won: boolean; grant_id: string | null }>({
    // Named: each connection has PostgreSQL parse and plan it once (every code redemption runs it).
    name: 'oidc-payloads-consume-once',
    text: `WITH won AS (
       UPDATE oidc_payloads SET consumed_at = now()
        WHERE model = $1 AND id = $2 AND consumed_at IS NULL
        RETURNING grant_id
     )
     SELECT true AS won, grant_id FROM won
     UNION ALL
     SELECT false, grant_id FROM oidc_payloads WHERE model = $1 AND id = $2 AND NOT EXISTS (SELECT FROM won)`,
    values: [model, id],
  });
  const row = rows[0];
  if (row?.won) return { consumed: true };
  return { consumed: false, grantId: row?.grant_id ?? undefined };
}

export async function deletePayload(db: Queryable, model: string, id: string): Promise<void> {
  await db.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [model, id]);
}

export async function deletePayloadsOfGrant(db: Queryable, model: string, grantId: string): Promise<void> {
  await db.query('DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2', [model, grantId]);
}

/**
 * Revokes a grant at once: the grant and every code and token issued under it, in one statement.
 * True when this call removed the grant (false when it was already gone).
 */
export async function deleteGrantAndItsTokens(db: Queryable, grantId: string): Promise<boolean> {
  const { rows } = await db.query<{ model: string }>(
    `DELETE FROM oidc_payloads
      WHERE (model = 'Grant' AND id = $1) OR (grant_id = $1 AND model = ANY($2))
      RETURNING model`,
    [grantId, GRANT_MODELS],
  );
  return rows.some((row) => row.model === 'Grant');
}

/** A live grant of one account: the client it was given to and what it holds. */
export interface GrantOfAccount {
  clientId: string;
  /** The OpenID scopes granted (space-separated; empty when none). */
  openidScope: string;
  /** Resource indicator → the scopes granted on it (space-separated). */
  resourceScopes: Record<string, string>;
  /** When it was granted (oidc-provider's `iat`). */
  issuedAt: Date;
}

/** The account's live grants, oldest first (through the index on the payload's accountId). */
export async function grantsOfAccount(db: Queryable, accountId: string): Promise<GrantOfAccount[]> {
  const { rows } = await db.query<{
    client_id: string;
    openid_scope: string | null;
    resources: Record<string, string> | null;
    iat: string | null;
  }>(
    `SELECT payload ->> 'clientId' AS client_id, payload -> 'openid' ->> 'scope' AS openid_scope,
            payload -> 'resources' AS resources, payload ->> 'iat' AS iat
       FROM oidc_payloads
      WHERE payload ? 'accountId' AND payload ->> 'accountId' = $1 AND model = 'Grant' AND ${LIVE}
      ORDER BY (payload ->> 'iat')::bigint, id`,
    [accountId],
  );
  return rows.map((row) => ({
    clientId: row.client_id,
    openidScope: row.openid_scope ?? '',
    resourceScopes: Object.fromEntries(
      Object.entries(row.resources ?? {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    ),
    issuedAt: new Date(Number(row.iat ?? 0) * 1000),
  }));
}

/**
 * Revokes every grant the account gave one client, with every code and token issued under them,
 * in one statement: how many grants went.
 */
export async function deleteGrantsOfAccountForClient(
  db: Queryable,
  accountId: string,
  clientId: string,
): Promise<number> {
  const { rows } = await db.query<{ model: string }>(
    `WITH grants AS (
       SELECT id FROM oidc_payloads
        WHERE payload ? 'accountId' AND payload ->> 'accountId' = $1 AND model = 'Grant'
          AND payload ->> 'clientId' = $2
     )
     DELETE FROM oidc_payloads
      WHERE (model = 'Grant' AND id IN (SELECT id FROM grants))
         OR (grant_id IN (SELECT id FROM grants) AND model = ANY($3))
      RETURNING model`,
    [accountId, clientId, GRANT_MODELS],
  );
  return rows.filter((row) => row.model === 'Grant').length;
}

/** Whether a grant is alive (present and unexpired). */
export async function grantIsLive(db: Queryable, grantId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND id = $1 AND ${LIVE}`,
    [grantId],
  );
  return (rowCount ?? 0) > 0;
}

/** Deletes expired rows in bounded batches; returns how many went. */
export async function sweepExpiredPayloads(db: Queryable, batchSize = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(
      `DELETE FROM oidc_payloads WHERE ctid IN (
         SELECT ctid FROM oidc_payloads WHERE expires_at <= now() LIMIT $1)`,
      [batchSize],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return total;
  }
}

/** What a deleted session or grant told of who was signed in to which client. */
export interface EndedPayload {
  model: 'Session' | 'Grant';
  accountId: string;
  /** Session: client id → the `sid` that client was given. */
  sids?: Record<string, string>;
  /** Grant: the client it was given to. */
  clientId?: string;
}

/**
 * Deletes every payload of the accounts `subs` (sessions, grants, codes, tokens): how many went,
 * and the sessions and grants among them (for back-channel logout).
 */
export async function deletePayloadsOfAccounts(
  db: Queryable,
  subs: string[],
): Promise<{ count: number; ended: EndedPayload[] }> {
  const { rows } = await db.query<{
    model: string;
    account_id: string;
    sids: Record<string, string> | null;
    client_id: string | null;
  }>(
    `DELETE FROM oidc_payloads WHERE payload ? 'accountId' AND payload ->> 'accountId' = ANY($1)
     RETURNING model, payload ->> 'accountId' AS account_id,
       CASE WHEN model = 'Session' THEN (
         SELECT jsonb_object_agg(client.key, client.value ->> 'sid')
           FROM jsonb_each(coalesce(payload -> 'authorizations', '{}'::jsonb)) AS client
          WHERE client.value ? 'sid') END AS sids,
       CASE WHEN model = 'Grant' THEN payload ->> 'clientId' END AS client_id`,
    [subs],
  );
  const ended: EndedPayload[] = [];
  for (const row of rows)
    if (row.model === 'Session')
      ended.push({ model: 'Session', accountId: row.account_id, sids: row.sids ?? {} });
    else if (row.model === 'Grant' && row.client_id !== null)
      ended.push({ model: 'Grant', accountId: row.account_id, clientId: row.client_id });
  return { count: rows.length, ended };
}
