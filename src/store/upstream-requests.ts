import type { Queryable } from './pool.ts';

/** An authorization request Lock sent to an upstream OpenID Connect / OAuth 2.0 provider. */
export interface PendingUpstreamRequest {
  connector: string;
  interactionUid: string;
  /** SHA-256 of the random value in the browser's binding cookie. */
  browserBinding: Buffer;
  nonce: string;
  /** PKCE (RFC 7636): sent to the token endpoint with the code. */
  codeVerifier: string;
  /** The client's max_age, which the upstream's auth_time must meet. */
  maxAgeSeconds?: number;
  expiresAt: Date;
}

interface RequestRow {
  connector: string;
  interaction_uid: string;
  browser_binding: Buffer;
  nonce: string;
  code_verifier: string;
  max_age_seconds: number | null;
  expires_at: Date;
}

/** Saves a request under the SHA-256 of its `state` (expired requests of anyone are dropped on the way). */
export async function savePendingUpstreamRequest(
  db: Queryable,
  stateHash: Buffer,
  request: PendingUpstreamRequest,
  now: Date,
): Promise<void> {
  await db.query('DELETE FROM upstream_requests WHERE expires_at < $1', [now]);
  await db.query(
    `INSERT INTO upstream_requests
       (state_hash, connector, interaction_uid, browser_binding, nonce, code_verifier, max_age_seconds, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      stateHash,
      request.connector,
      request.interactionUid,
      request.browserBinding,
      request.nonce,
      request.codeVerifier,
      request.maxAgeSeconds ?? null,
      request.expiresAt,
    ],
  );
}

/**
 * Takes (deletes) the unexpired request of this connector with this `state`: single use, so a
 * second callback with the same `state` (a replayed code) finds nothing.
 */
export async function takePendingUpstreamRequest(
  db: Queryable,
  where: { stateHash: Buffer; connector: string },
  now: Date,
): Promise<PendingUpstreamRequest | undefined> {
  const { rows } = await db.query<RequestRow>(
    `DELETE FROM upstream_requests WHERE state_hash = $1 AND connector = $2 AND expires_at > $3
     RETURNING connector, interaction_uid, browser_binding, nonce, code_verifier, max_age_seconds, expires_at`,
    [where.stateHash, where.connector, now],
  );
  const row = rows[0];
  return (
    row && {
      connector: row.connector,
      interactionUid: row.interaction_uid,
      browserBinding: row.browser_binding,
      nonce: row.nonce,
      codeVerifier: row.code_verifier,
      ...(row.max_age_seconds !== null && { maxAgeSeconds: row.max_age_seconds }),
      expiresAt: row.expires_at,
    }
  );
}

/** Keeps a validated login for the browser that started it (`id`: what the completion step names). */
export async function saveUpstreamLogin(
  db: Queryable,
  login: {
    id: string;
    connector: string;
    interactionUid: string;
    browserBinding: Buffer;
    outcome: unknown;
    expiresAt: Date;
  },
): Promise<void> {
  await db.query(
    `INSERT INTO upstream_logins (id, connector, interaction_uid, browser_binding, outcome, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      login.id,
      login.connector,
      login.interactionUid,
      login.browserBinding,
      JSON.stringify(login.outcome),
      login.expiresAt,
    ],
  );
}

/** Takes (deletes) a login, only for the browser and interaction that started it; else undefined. */
export async function takeUpstreamLogin(
  db: Queryable,
  where: { id: string; connector: string; interactionUid: string; browserBinding: Buffer },
  now: Date,
): Promise<unknown> {
  const { rows } = await db.query<{ outcome: unknown }>(
    `DELETE FROM upstream_logins
     WHERE id = $1 AND connector = $2 AND interaction_uid = $3 AND browser_binding = $4 AND expires_at > $5
     RETURNING outcome`,
    [where.id, where.connector, where.interactionUid, where.browserBinding, now],
  );
  return rows[0]?.outcome;
}
