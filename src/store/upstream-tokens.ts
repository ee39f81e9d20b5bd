import type { Queryable } from './pool.ts';

/** What Lock keeps of a person's upstream session: the sealed refresh token and the last check. */
export interface UpstreamTokenRow {
  /** Sealed by the caller; undefined when the upstream issued none. */
  sealedRefreshToken?: string;
  checkedAt: Date;
}

/** After a sign-in or a successful refresh upstream: the token to use next, checked now. */
export async function saveUpstreamToken(
  db: Queryable,
  key: { connector: string; upstreamId: string },
  sealedRefreshToken: string | undefined,
  checkedAt: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO upstream_tokens (connector, upstream_id, refresh_token, checked_at, refreshing_until)
     VALUES ($1, $2, $3, $4, NULL)
     ON CONFLICT (connector, upstream_id)
       DO UPDATE SET refresh_token = $3, checked_at = $4, refreshing_until = NULL`,
    [key.connector, key.upstreamId, sealedRefreshToken ?? null, checkedAt],
  );
}

export async function findUpstreamToken(
  db: Queryable,
  key: { connector: string; upstreamId: string },
): Promise<UpstreamTokenRow | undefined> {
  const { rows } = await db.query<{ refresh_token: string | null; checked_at: Date }>(
    'SELECT refresh_token, checked_at FROM upstream_tokens WHERE connector = $1 AND upstream_id = $2',
    [key.connector, key.upstreamId],
  );
  const row = rows[0];
  return (
    row && {
      ...(row.refresh_token !== null && { sealedRefreshToken: row.refresh_token }),
      checkedAt: row.checked_at,
    }
  );
}

/**
 * Claims the refresh of one person's upstream session when its last check is older than
 * `checkedBefore` and nobody else is refreshing it: the row (with the token to use) for the one
 * caller that may ask upstream now, undefined for the others.
 */
export async function claimUpstreamRefresh(
  db: Queryable,
  key: { connector: string; upstreamId: string },
  checkedBefore: Date,
  now: Date,
  claimFor: number,
): Promise<UpstreamTokenRow | undefined> {
  const { rows } = await db.query<{ refresh_token: string | null; checked_at: Date }>(
    `UPDATE upstream_tokens SET refreshing_until = $4::timestamptz + make_interval(secs => $5::float8)
     WHERE connector = $1 AND upstream_id = $2 AND checked_at <= $3
       AND (refreshing_until IS NULL OR refreshing_until <= $4)
     RETURNING refresh_token, checked_at`,
    [key.connector, key.upstreamId, checkedBefore, now, claimFor / 1000],
  );
  const row = rows[0];
  return (
    row && {
      ...(row.refresh_token !== null && { sealedRefreshToken: row.refresh_token }),
      checkedAt: row.checked_at,
    }
  );
}

/** The upstream refused the session (revoked, user disabled): nothing of it is kept. */
export async function forgetUpstreamToken(
  db: Queryable,
  key: { connector: string; upstreamId: string },
): Promise<void> {
  await db.query('DELETE FROM upstream_tokens WHERE connector = $1 AND upstream_id = $2', [
    key.connector,
    key.upstreamId,
  ]);
}

/** The refresh was tried and failed for a reason that is not the upstream's refusal: free the claim. */
export async function releaseUpstreamRefresh(
  db: Queryable,
  key: { connector: string; upstreamId: string },
): Promise<void> {
  await db.query(
    'UPDATE upstream_tokens SET refreshing_until = NULL WHERE connector = $1 AND upstream_id = $2',
    [key.connector, key.upstreamId],
  );
}
