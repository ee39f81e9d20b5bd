import type { Queryable } from './pool.ts';

export interface LoginFailureRow {
  key: string;
  failures: number;
  lockedUntil: Date | null;
}

export async function readLoginFailures(db: Queryable, keys: string[]): Promise<LoginFailureRow[]> {
  const { rows } = await db.query<{ key: string; failures: number; locked_until: Date | null }>(
    'SELECT key, failures, locked_until FROM login_failures WHERE key = ANY($1)',
    [keys],
  );
  return rows.map((row) => ({ key: row.key, failures: row.failures, lockedUntil: row.locked_until }));
}

export interface FailureUpdate {
  now: Date;
  resetAfterSeconds: number;
  waitIncrementSeconds: number;
  maxWaitSeconds: number;
  counters: Array<{ key: string; threshold: number }>;
}

/**
 * Adds one failure to each counter (starting afresh when the last count is older than the reset
 * window) and, at or past the counter's threshold, locks it for increment × (failures − threshold + 1)
 * seconds, capped at the maximum.
 */
export async function recordLoginFailures(db: Queryable, update: FailureUpdate): Promise<void> {
  await db.query(
    `INSERT INTO login_failures AS f (key, threshold, failures, first_failure_at, last_failure_at, locked_until)
     SELECT c.key, c.threshold, 1, $1::timestamptz, $1::timestamptz, CASE WHEN c.threshold <= 1 THEN $1::timestamptz + make_interval(secs => $3::float8) END
     FROM unnest($5::text[], $6::int[]) AS c (key, threshold)
     ON CONFLICT (key) DO UPDATE SET
       threshold = EXCLUDED.threshold,
       failures = CASE WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => $2::float8) THEN 1 ELSE f.failures + 1 END,
       first_failure_at = CASE WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => $2::float8) THEN $1::timestamptz ELSE f.first_failure_at END,
       last_failure_at = $1::timestamptz,
       locked_until = CASE
         WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => $2::float8) THEN NULL
         WHEN f.failures + 1 >= EXCLUDED.threshold
           THEN $1::timestamptz + make_interval(secs => least($4::float8, $3::float8 * (f.failures + 2 - EXCLUDED.threshold)))
         ELSE f.locked_until
       END`,
    [
      update.now,
      update.resetAfterSeconds,
      update.waitIncrementSeconds,
      update.maxWaitSeconds,
      update.counters.map((counter) => counter.key),
      update.counters.map((counter) => counter.threshold),
    ],
  );
}

export async function clearLoginFailures(db: Queryable, keys: string[]): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM login_failures WHERE key = ANY($1)', [keys]);
  return rowCount ?? 0;
}
