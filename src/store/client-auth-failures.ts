import type { Queryable } from './pool.ts';

export interface ClientAuthFailureUpdate {
  now: Date;
  resetAfterSeconds: number;
  waitIncrementSeconds: number;
  maxWaitSeconds: number;
  counters: Array<{ key: string; threshold: number }>;
}

export interface ClientAuthFailureRow {
  key: string;
  failures: number;
  firstFailureAt: Date;
  lockedUntil: Date | null;
}

/**
 * Adds one failure to each counter (afresh when its first failure is older than the reset window)
 * and, at or past the threshold, locks it for increment × (failures − threshold + 1) seconds, capped
 * at the maximum. Returns every counter's new state: the process that counted learns the lock.
 * Counters are taken in key order, as clearClientAuthFailures takes them: concurrent failures and
 * successes of one client from one address never wait on each other's rows.
 */
export async function recordClientAuthFailures(
  db: Queryable,
  update: ClientAuthFailureUpdate,
): Promise<ClientAuthFailureRow[]> {
  const { rows } = await db.query<{
    key: string;
    failures: number;
    first_failure_at: Date;
    locked_until: Date | null;
  }>(
    `INSERT INTO client_auth_failures AS f (key, threshold, failures, first_failure_at, locked_until)
     SELECT c.key, c.threshold, 1, $1::timestamptz,
            CASE WHEN c.threshold <= 1 THEN $1::timestamptz + make_interval(secs => $3::float8) END
     FROM unnest($5::text[], $6::int[]) AS c (key, threshold)
     ORDER BY c.key
     ON CONFLICT (key) DO UPDATE SET
       threshold = EXCLUDED.threshold,
       failures = CASE WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => $2::float8)
                       THEN 1 ELSE f.failures + 1 END,
       first_failure_at = CASE WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => $2::float8)
                               THEN $1::timestamptz ELSE f.first_failure_at END,
       locked_until = CASE
         WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => $2::float8) THEN NULL
         WHEN f.failures + 1 >= EXCLUDED.threshold
           THEN $1::timestamptz + make_interval(secs => least($4::float8, $3::float8 * (f.failures + 2 - EXCLUDED.threshold)))
         ELSE f.locked_until
       END
     RETURNING key, failures, first_failure_at, locked_until`,
    [
      update.now,
      update.resetAfterSeconds,
      update.waitIncrementSeconds,
      update.maxWaitSeconds,
      update.counters.map((counter) => counter.key),
      update.counters.map((counter) => counter.threshold),
    ],
  );
  return rows.map((row) => ({
    key: row.key,
    failures: row.failures,
    firstFailureAt: row.first_failure_at,
    lockedUntil: row.locked_until,
  }));
}

export async function clearClientAuthFailures(db: Queryable, keys: string[]): Promise<void> {
  await db.query(
    `DELETE FROM client_auth_failures
     WHERE key IN (SELECT key FROM client_auth_failures WHERE key = ANY($1) ORDER BY key FOR UPDATE)`,
    [keys],
  );
}

/** Forgets counts whose window has passed and whose lock has ended. */
export async function deleteStaleClientAuthFailures(db: Queryable, before: Date, now: Date): Promise<void> {
  await db.query(
    'DELETE FROM client_auth_failures WHERE first_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)',
    [before, now],
  );
}
