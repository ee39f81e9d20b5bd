import type { Adapter, AdapterPayload } from 'oidc-provider';
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

const LIVE = '(expires_at IS NULL OR expires_at > now())';

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

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
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
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND id = $2 AND ${LIVE}`,
      [this.#model, id],
    );
    return toPayload(rows[0]);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND user_code = $2 AND ${LIVE}`,
      [this.#model, userCode],
    );
    return toPayload(rows[0]);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.#pool.query<PayloadRow>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND uid = $2 AND ${LIVE}`,
      [this.#model, uid],
    );
    return toPayload(rows[0]);
  }

  async consume(id: string): Promise<void> {
    await this.#pool.query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [
      this.#model,
      id,
    ]);
  }

  async destroy(id: string): Promise<void> {
    await this.#pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.#model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
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
