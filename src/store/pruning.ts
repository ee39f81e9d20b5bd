import type pg from 'pg';
import { TOKEN_LIFETIMES } from '../config/defaults.ts';
import { ADVISORY_LOCKS, tryTransactionLock } from './advisory-locks.ts';
import { tx } from './pool.ts';

/**
 * Expired rows of the tables that anonymous requests grow: one bounded DELETE per table per run,
 * run by one process at a time. A table with more expired rows than a batch is finished by the
 * next runs (every few minutes), so a run never holds a long transaction.
 */
export interface PruneSettings {
  now: Date;
  /** Rate-limit windows older than this are over for every process. */
  rateLimitWindowSeconds: number;
  /** Repeat counts of failed sign-ins live as long as the audit rows they belong to. */
  auditRetentionDays: number;
  batchSize?: number;
}

export type PruneSummary = Record<(typeof TABLES)[number]['table'], number>;

/** How often each Lock process tries a run (the advisory lock lets one of them do it). */
export { PRUNE_INTERVAL_MS } from '../config/defaults.ts';

/** Taken with pg_try_advisory_xact_lock: a process that finds it taken skips its run. */
export const PRUNE_LOCK_KEY = ADVISORY_LOCKS.pruning;

/** Each table, and which of its rows are expired at $1 (`$3`: a table-specific age in seconds). */
const TABLES = [
  { table: 'oidc_payloads', expired: 'expires_at <= $1::timestamptz' },
  { table: 'pending_second_factors', expired: 'expires_at <= $1::timestamptz' },
  { table: 'saml_requests', expired: 'expires_at <= $1::timestamptz' },
  { table: 'saml_assertion_ids', expired: 'expires_at <= $1::timestamptz' },
  { table: 'saml_idp_initiated_logins', expired: 'expires_at <= $1::timestamptz' },
  { table: 'upstream_requests', expired: 'expires_at <= $1::timestamptz' },
  { table: 'upstream_logins', expired: 'expires_at <= $1::timestamptz' },
  { table: 'device_code_polls', expired: 'expires_at <= $1::timestamptz' },
  { table: 'webauthn_challenges', expired: 'expires_at <= $1::timestamptz' },
  // Kept a day past expiry: the per-account limit of reset mails counts the recent ones.
  { table: 'email_links', expired: "expires_at <= $1::timestamptz - interval '1 day'" },
  // /account (migration 0031): page sessions past their timeout, and what was seen of browsers
  // whose sessions cannot live any more (no session outlives oidc-provider's Session lifetime).
  { table: 'account_sessions', expired: 'expires_at <= $1::timestamptz' },
  {
    table: 'session_activity',
    expired: 'last_seen_at < $1::timestamptz - make_interval(secs => $3::float8)',
  },
  {
    table: 'login_failures',
    expired:
      // A counter past its own reset window no longer counts (and is not locked).
      'last_failure_at < $1::timestamptz - make_interval(secs => reset_after_seconds) AND (locked_until IS NULL OR locked_until <= $1::timestamptz)',
  },
  {
    table: 'rate_limit_counters',
    expired: 'window_start < $1::timestamptz - make_interval(secs => $3::float8)',
  },
  { table: 'audit_event_repeats', expired: 'last_at < $1::timestamptz - make_interval(secs => $3::float8)' },
] as const;

/** Deletes at most a batch of expired rows from each table; undefined when another process is at it. */
export async function pruneExpiredRows(
  pool: pg.Pool,
  settings: PruneSettings,
): Promise<PruneSummary | undefined> {
  const batchSize = settings.batchSize ?? 5000;
  const ages: Partial<Record<PruneSummary extends Record<infer K, number> ? K : never, number>> = {
    // Two windows: the current one and the one just closed are still read.
    rate_limit_counters: 2 * settings.rateLimitWindowSeconds,
    audit_event_repeats: settings.auditRetentionDays * 86_400,
    session_activity: TOKEN_LIFETIMES.Session,
  };
  return tx(pool, async (client) => {
    if (!(await tryTransactionLock(client, PRUNE_LOCK_KEY))) return undefined;
    const summary = {} as PruneSummary;
    for (const { table, expired } of TABLES) {
      const age = ages[table];
      // Table names come from the fixed list above, never from input. A row a request is writing
      // right now is left for the next run: waiting for it, while holding the rows taken before,
      // could close a cycle with a request that takes several rows (and one would fail as a deadlock).
      const { rowCount } = await client.query(
        `DELETE FROM ${table}
         WHERE ctid IN (SELECT ctid FROM ${table} WHERE ${expired} LIMIT $2 FOR UPDATE SKIP LOCKED)`,
        age === undefined ? [settings.now, batchSize] : [settings.now, batchSize, age],
      );
      summary[table] = rowCount ?? 0;
    }
    return summary;
  });
}
