import type { Queryable } from './pool.ts';

/** An IdP-initiated login the ACS accepted, until the browser that posted it takes it (once). */
export interface HeldLogin {
  /** SHA-256 of the random value in the browser's cookie. */
  browserBinding: Buffer;
  connector: string;
  clientId: string;
  outcome: unknown;
  expiresAt: Date;
}

export async function holdLogin(db: Queryable, login: HeldLogin, now: Date): Promise<void> {
  await db.query('DELETE FROM saml_idp_initiated_logins WHERE expires_at < $1', [now]);
  await db.query(
    `INSERT INTO saml_idp_initiated_logins (browser_binding, connector, client_id, outcome, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [login.browserBinding, login.connector, login.clientId, JSON.stringify(login.outcome), login.expiresAt],
  );
}

/**
 * Takes (deletes) the login held for this browser, connector and client if it has not expired.
 * Concurrent callers with one binding: at most one gets it.
 */
export async function takeHeldLogin(
  db: Queryable,
  where: { browserBinding: Buffer; connector: string; clientId: string },
  now: Date,
): Promise<unknown> {
  const { rows } = await db.query<{ outcome: unknown }>(
    `DELETE FROM saml_idp_initiated_logins
     WHERE browser_binding = $1 AND connector = $2 AND client_id = $3 AND expires_at > $4
     RETURNING outcome`,
    [where.browserBinding, where.connector, where.clientId, now],
  );
  return rows[0]?.outcome;
}
