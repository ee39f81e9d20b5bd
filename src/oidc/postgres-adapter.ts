import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import type pg from 'pg';

interface PayloadRow {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

const toPayload = (row: PayloadRow | undefined): AdapterPayload | undefined => {
  if (!row) return undefined;
  return row.consumed_at
    ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) }
    : row.payload;
};

const live = (table: string) => `(${table}.expires_at IS NULL OR ${table}.expires_at > now())`;
const LIVE = live('oidc_payloads');

/**
 * Grant sources — a refresh token or an authorization code — are always followed, in the same
 * request, by a read of their grant and (when bound to it) their session. Their find reads all
 * three in one statement and keeps the other two for the request at hand (oidc-provider's
 * context), where the next find or findByUid takes them once instead of querying again.
 */
const GRANT_SOURCES = new Set(['RefreshToken', 'AuthorizationCode']);
const readAhead = new WeakMap<object, Map<string, AdapterPayload | undefined>>();

const grantKey = (id: string) => `Grant:${id}`;
const sessionKey = (uid: string) => `Session:uid:${uid}`;

function takeReadAhead(key: string): { payload: AdapterPayload | undefined } | undefined {
  const ctx = Provider.ctx;
  const rows = ctx && readAhead.get(ctx);
  if (!rows?.has(key)) return undefined;
  const payload = rows.get(key);
  rows.delete(key);
  return { payload };
}

/** Any write by the request makes what it read ahead possibly stale: forget all of it. */
function forgetReadAhead(): void {
  const ctx = Provider.ctx;
  if (ctx) readAhead.delete(ctx);
}

/**
 * Stores every oidc-provider model (sessions, interactions, grants, codes, refresh tokens, …) in
 * one table keyed by (model, id). Expired rows are invisible at once and deleted by `sweepExpired`.
 */
export class PostgresAdapter implements Adapter {
  readonly #pool: pg.Pool;
  readonly #model: string;

  constructor(pool: pg.Pool, model: string) {
    this.#pool = pool;
    this.#model = model;
  }

  #key(id: string) {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    forgetReadAhead();
    await this.#pool.query(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int > 0 THEN now() + make_interval(secs => $7::int) END)
       ON CONFLICT (model, id) DO UPDATE SET payload = $3, grant_id = $4, user_code = $5, uid = $6, expires_at = EXCLUDED.expires_at`,
      [
        this.#model,
        id,
        payload,
        payload.grantId ?? null,
        payload.userCode ?? null,
        payload.uid ?? null,
        expiresIn || 0,
      ],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const ahead = takeReadAhead(this.#key(id));
    if (ahead) return ahead.payload;
    const ctx = Provider.ctx;
    if (ctx && GRANT_SOURCES.has(this.#model)) return this.#findGrantSource(ctx, id);
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND id = $2 AND ${LIVE}`,
      [this.#model, id],
    );
    return toPayload(rows[0]);
  }

  async #findGrantSource(ctx: object, id: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.#pool.query<PayloadRow & { kind: 'source' | 'Grant' | 'Session' }>(
      `WITH source AS (
         SELECT payload, consumed_at, grant_id FROM oidc_payloads AS s WHERE model = $1 AND id = $2 AND ${live('s')}
       )
       SELECT 'source' AS kind, payload, consumed_at FROM source
       UNION ALL
       SELECT 'Grant', g.payload, g.consumed_at FROM source JOIN oidc_payloads AS g
         ON g.model = 'Grant' AND g.id = source.grant_id AND ${live('g')}
       UNION ALL
       SELECT 'Session', session.payload, session.consumed_at FROM source JOIN oidc_payloads AS session
         ON session.model = 'Session' AND session.uid = source.payload->>'sessionUid' AND ${live('session')}`,
      [this.#model, id],
    );
    const source = toPayload(rows.find((row) => row.kind === 'source'));
    if (!source) return undefined;
    const ahead = new Map<string, AdapterPayload | undefined>();
    // A grant or session that is gone is remembered as gone: the follow-up find answers undefined.
    if (typeof source.grantId === 'string')
      ahead.set(grantKey(source.grantId), toPayload(rows.find((row) => row.kind === 'Grant')));
    if (typeof source.sessionUid === 'string')
      ahead.set(sessionKey(source.sessionUid), toPayload(rows.find((row) => row.kind === 'Session')));
    readAhead.set(ctx, ahead);
    return source;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND user_code = $2 AND ${LIVE}`,
      [this.#model, userCode],
    );
    return toPayload(rows[0]);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (this.#model === 'Session') {
      const ahead = takeReadAhead(sessionKey(uid));
      if (ahead) return ahead.payload;
    }
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND uid = $2 AND ${LIVE}`,
      [this.#model, uid],
    );
    return toPayload(rows[0]);
  }

  async consume(id: string): Promise<void> {
    forgetReadAhead();
    await this.#pool.query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [
      this.#model,
      id,
    ]);
  }

  async destroy(id: string): Promise<void> {
    forgetReadAhead();
    await this.#pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.#model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    forgetReadAhead();
    await this.#pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2', [
      this.#model,
      grantId,
    ]);
  }
}

/** Deletes expired rows in bounded batches; returns how many went. */
export async function sweepExpired(pool: pg.Pool, batchSize = 1000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(
      `DELETE FROM oidc_payloads WHERE ctid IN (
         SELECT ctid FROM oidc_payloads WHERE expires_at <= now() LIMIT $1)`,
      [batchSize],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return total;
  }
}
