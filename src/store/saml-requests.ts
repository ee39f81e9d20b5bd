import type { Queryable } from './pool.ts';

/** An AuthnRequest Lock sent, until the browser that started it completes the login. */
export interface OutstandingRequest {
  id: string;
  connector: string;
  interactionUid: string;
  relayState: string;
  /** The AuthnRequest's IssueInstant. */
  issuedAt: Date;
  /** The IdP was asked to authenticate the user again (ForceAuthn). */
  forceAuthn: boolean;
  /** The client's max_age, which the IdP's AuthnInstant must meet. */
  maxAgeSeconds?: number;
  expiresAt: Date;
  answered: boolean;
}

interface RequestRow {
  id: string;
  connector: string;
  interaction_uid: string;
  relay_state: string;
  issued_at: Date | null;
  created_at: Date;
  force_authn: boolean;
  max_age_seconds: number | null;
  expires_at: Date;
  answered_at: Date | null;
}

export async function saveOutstandingRequest(
  db: Queryable,
  request: Omit<OutstandingRequest, 'answered'> & { browserBinding: Buffer },
  now: Date,
): Promise<void> {
  await db.query('DELETE FROM saml_requests WHERE expires_at < $1', [now]);
  await db.query(
    `INSERT INTO saml_requests
       (id, connector, interaction_uid, relay_state, browser_binding, expires_at, issued_at, force_authn, max_age_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      request.id,
      request.connector,
      request.interactionUid,
      request.relayState,
      request.browserBinding,
      request.expiresAt,
      request.issuedAt,
      request.forceAuthn,
      request.maxAgeSeconds ?? null,
    ],
  );
}

export async function findOutstandingRequest(
  db: Queryable,
  id: string,
): Promise<OutstandingRequest | undefined> {
  const { rows } = await db.query<RequestRow>(
    `SELECT id, connector, interaction_uid, relay_state, issued_at, created_at, force_authn, max_age_seconds,
            expires_at, answered_at
       FROM saml_requests WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  return row && fromRow(row);
}

function fromRow(row: RequestRow): OutstandingRequest {
  return {
    id: row.id,
    connector: row.connector,
    interactionUid: row.interaction_uid,
    relayState: row.relay_state,
    issuedAt: row.issued_at ?? row.created_at,
    forceAuthn: row.force_authn,
    ...(row.max_age_seconds !== null && { maxAgeSeconds: row.max_age_seconds }),
    expiresAt: row.expires_at,
    answered: row.answered_at !== null,
  };
}

/**
 * Counts one more response posted for the request and returns the request with the count so far
 * (this one included); undefined when there is no such request. Concurrent callers each get their
 * own count.
 */
export async function countResponseTo(
  db: Queryable,
  id: string,
): Promise<(OutstandingRequest & { responses: number }) | undefined> {
  const { rows } = await db.query<RequestRow & { responses: number }>(
    `UPDATE saml_requests SET responses = responses + 1 WHERE id = $1
     RETURNING id, connector, interaction_uid, relay_state, issued_at, created_at, force_authn, max_age_seconds,
               expires_at, answered_at, responses`,
    [id],
  );
  const row = rows[0];
  return row && { ...fromRow(row), responses: row.responses };
}

/** Single use: true for the one caller that answers the request, false for every later one. */
export async function answerRequest(
  db: Queryable,
  id: string,
  outcome: unknown,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE saml_requests SET answered_at = $3, outcome = $2
     WHERE id = $1 AND answered_at IS NULL AND expires_at > $3`,
    [id, JSON.stringify(outcome), now],
  );
  return rowCount === 1;
}

/** Takes (deletes) an answered request's outcome, only for the browser and interaction that started it. */
export async function takeAnsweredRequest(
  db: Queryable,
  where: { id: string; connector: string; interactionUid: string; browserBinding: Buffer },
  now: Date,
): Promise<unknown> {
  const { rows } = await db.query<{ outcome: unknown }>(
    `DELETE FROM saml_requests
     WHERE id = $1 AND connector = $2 AND interaction_uid = $3 AND browser_binding = $4
       AND answered_at IS NOT NULL AND expires_at > $5
     RETURNING outcome`,
    [where.id, where.connector, where.interactionUid, where.browserBinding, now],
  );
  return rows[0]?.outcome;
}
