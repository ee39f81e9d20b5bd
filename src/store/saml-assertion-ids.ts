import type { Queryable } from './pool.ts';

/**
 * Remembers an assertion ID until the assertion expires. Resolves false when the ID was already
 * there: the assertion is a replay. Concurrent callers with one ID: exactly one gets true.
 */
export async function rememberAssertionId(
  db: Queryable,
  assertion: { issuer: string; id: string; expiresAt: Date },
  now: Date,
): Promise<boolean> {
  await db.query('DELETE FROM saml_assertion_ids WHERE expires_at < $1', [now]);
  const { rowCount } = await db.query(
    `INSERT INTO saml_assertion_ids (issuer, assertion_id, expires_at) VALUES ($1, $2, $3)
     ON CONFLICT (issuer, assertion_id) DO NOTHING`,
    [assertion.issuer, assertion.id, assertion.expiresAt],
  );
  return rowCount === 1;
}

/** Whether an assertion ID was accepted before (read only: to name a replay as such). */
export async function isKnownAssertionId(
  db: Queryable,
  assertion: { issuer: string; id: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    'SELECT 1 FROM saml_assertion_ids WHERE issuer = $1 AND assertion_id = $2',
    [assertion.issuer, assertion.id],
  );
  return rowCount === 1;
}
