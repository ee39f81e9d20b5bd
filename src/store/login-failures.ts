import type { Queryable } from './pool.ts';

/**
 * Joined into each write below: its own transaction commits without waiting for the disk flush.
 * Every sign-in writes these counters, and a flush each would cost more than the rest of the
 * reservation; other processes still see each count the moment it commits, and a crash of
 * PostgreSQL can lose at most the last fraction of a second of counts, never corrupt them.
 */
const ASYNC_COMMIT = "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit";

/**
 * The counters a statement below changes, locked in key order first, as reserveAttempts takes
 * them. Concurrent sign-ins of one account from one address write the same rows; a statement that
 * took them in the order they lie on disk could hold one row while waiting for another that a
 * reservation holds while waiting for the first, and PostgreSQL would abort one as a deadlock.
 */
const inKeyOrder = (where: string, skipLocked = false) =>
  `key IN (SELECT key FROM login_failures WHERE ${where} ORDER BY key FOR UPDATE${skipLocked ? ' SKIP LOCKED' : ''})`;

/** One counter of sign-in attempts and the policy it is counted under. */
export interface AttemptCounter {
  key: string;
  /** Attempts allowed within `resetAfterSeconds`; the one that reaches it locks the counter. */
  threshold: number;
  waitIncrementSeconds: number;
  maxWaitSeconds: number;
  resetAfterSeconds: number;
  /** For an account counter: the account's normalised username (what `lock users unlock` is given). */
  accountName?: string;
}

/**
 * One statement: counts an attempt on each counter and says, per counter, whether the attempt is
 * within budget. Row locks of ON CONFLICT make concurrent reservations queue on the row, so no two
 * attempts can both take the last place. A counter older than its reset window starts afresh; a
 * locked counter is not counted further (refusals do not lengthen a lockout); the attempt that
 * reaches the threshold is allowed and locks the counter for increment × (attempts − threshold + 1)
 * seconds, capped at the maximum. Counters are taken in key order so that two statements never
 * wait on each other's rows.
 */
export async function reserveAttempts(
  db: Queryable,
  now: Date,
  counters: readonly AttemptCounter[],
): Promise<Map<string, boolean>> {
  const { rows } = await db.query<{ key: string; last_attempt_allowed: boolean }>({
    // Named: prepared once per connection, as it runs on every sign-in.
    name: 'reserve-login-attempts',
    text: `INSERT INTO login_failures AS f (key, threshold, wait_increment_seconds, max_wait_seconds, reset_after_seconds,
                                     account_name, failures, first_failure_at, last_failure_at, locked_until, last_attempt_allowed)
     SELECT c.key, c.threshold, c.wait_increment, c.max_wait, c.reset_after, c.account_name, 1, $1::timestamptz, $1::timestamptz,
            CASE WHEN c.threshold <= 1 THEN $1::timestamptz + make_interval(secs => least(c.max_wait, c.wait_increment)) END,
            true
     FROM unnest($2::text[], $3::int[], $4::float8[], $5::float8[], $6::float8[], $7::text[])
       AS c (key, threshold, wait_increment, max_wait, reset_after, account_name)
       CROSS JOIN ${ASYNC_COMMIT}
     ORDER BY c.key
     ON CONFLICT (key) DO UPDATE SET
       threshold = EXCLUDED.threshold,
       wait_increment_seconds = EXCLUDED.wait_increment_seconds,
       max_wait_seconds = EXCLUDED.max_wait_seconds,
       reset_after_seconds = EXCLUDED.reset_after_seconds,
       account_name = coalesce(EXCLUDED.account_name, f.account_name),
       failures = CASE
         WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => EXCLUDED.reset_after_seconds) THEN 1
         WHEN f.locked_until > $1::timestamptz THEN f.failures
         ELSE f.failures + 1
       END,
       first_failure_at = CASE
         WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => EXCLUDED.reset_after_seconds) THEN $1::timestamptz
         ELSE f.first_failure_at
       END,
       last_failure_at = $1::timestamptz,
       locked_until = CASE
         WHEN f.first_failure_at < $1::timestamptz - make_interval(secs => EXCLUDED.reset_after_seconds)
           THEN CASE WHEN EXCLUDED.threshold <= 1
             THEN $1::timestamptz + make_interval(secs => least(EXCLUDED.max_wait_seconds, EXCLUDED.wait_increment_seconds)) END
         WHEN f.locked_until > $1::timestamptz THEN f.locked_until
         WHEN f.failures + 1 >= EXCLUDED.threshold
           THEN $1::timestamptz + make_interval(secs => least(EXCLUDED.max_wait_seconds,
                  EXCLUDED.wait_increment_seconds * (f.failures + 2 - EXCLUDED.threshold)))
         ELSE f.locked_until
       END,
       last_attempt_allowed =
         f.first_failure_at < $1::timestamptz - make_interval(secs => EXCLUDED.reset_after_seconds)
         OR f.locked_until IS NULL OR f.locked_until <= $1::timestamptz
     RETURNING key, last_attempt_allowed`,
    values: [
      now,
      counters.map((counter) => counter.key),
      counters.map((counter) => counter.threshold),
      counters.map((counter) => counter.waitIncrementSeconds),
      counters.map((counter) => counter.maxWaitSeconds),
      counters.map((counter) => counter.resetAfterSeconds),
      counters.map((counter) => counter.accountName ?? null),
    ],
  });
  return new Map(rows.map((row) => [row.key, row.last_attempt_allowed]));
}

/**
 * Gives back one reserved attempt (a successful sign-in from an address that other people share):
 * the count goes down by one and, below the threshold again, the counter is unlocked.
 */
export async function releaseAttempts(db: Queryable, keys: string[]): Promise<void> {
  await db.query(
    `UPDATE login_failures SET
       failures = greatest(failures - 1, 0),
       locked_until = CASE WHEN failures - 1 < threshold THEN NULL ELSE locked_until END
     FROM ${ASYNC_COMMIT}
     WHERE ${inKeyOrder('key = ANY($1)')}`,
    [keys],
  );
}

export async function clearLoginFailures(db: Queryable, keys: string[]): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM login_failures USING ${ASYNC_COMMIT} WHERE ${inKeyOrder('key = ANY($1)')}`,
    [keys],
  );
  return rowCount ?? 0;
}

/** Clears the given counters and every account counter recorded under `accountName`. */
export async function clearAccountFailures(
  db: Queryable,
  keys: string[],
  accountName: string,
): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM login_failures WHERE ${inKeyOrder('key = ANY($1) OR account_name = $2')}`,
    [keys, accountName],
  );
  return rowCount ?? 0;
}

/**
 * Forgets counters whose window has passed and which lock nothing (one row per sign-in interaction
 * otherwise stays). A counter a sign-in is writing right now is left for the next pass.
 */
export async function pruneLoginFailures(db: Queryable, now: Date): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM login_failures
     WHERE ${inKeyOrder(
       `last_failure_at < $1::timestamptz - make_interval(secs => reset_after_seconds)
        AND (locked_until IS NULL OR locked_until <= $1::timestamptz)`,
       true,
     )}`,
    [now],
  );
  return rowCount ?? 0;
}

/** An account as its lockout is read: the typed name's counter key and the account's own name. */
export interface LockoutKey {
  key: string;
  accountName: string;
}

/**
 * Until when sign-ins of each account are refused: the latest lock of its counter `key` (the typed
 * name's) and of every account counter recorded under its `accountName`; an account no counter
 * locks now is absent from the map (keyed by accountName). One statement for any number of
 * accounts: the admin user list reads a whole page at once.
 */
export async function lockedUntilOfAccounts(
  db: Queryable,
  accounts: LockoutKey[],
  now: Date,
): Promise<Map<string, Date>> {
  if (accounts.length === 0) return new Map();
  const { rows } = await db.query<{ account_name: string; until: Date }>(
    `SELECT account.name AS account_name, max(failure.locked_until) AS until
     FROM unnest($1::text[], $2::text[]) AS account (key, name)
     JOIN login_failures AS failure ON failure.key = account.key OR failure.account_name = account.name
     WHERE failure.locked_until > $3
     GROUP BY account.name`,
    [accounts.map((account) => account.key), accounts.map((account) => account.accountName), now],
  );
  return new Map(rows.map((row) => [row.account_name, row.until]));
}
