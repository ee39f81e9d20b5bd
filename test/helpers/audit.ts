import type pg from 'pg';

/**
 * How many attempts the audit log records for a subject and event type (and outcome): a burst of
 * repeated failures is one row whose repeats are counted in audit_event_repeats, so rows are not
 * attempts.
 */
export async function countAuditedAttempts(
  pool: pg.Pool,
  filter: { subject: string; type: string; outcome?: 'success' | 'failure' | 'error' },
): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT coalesce(sum(coalesce(r.attempts, 1)), 0)::int AS n
       FROM audit_events e LEFT JOIN audit_event_repeats r USING (repeat_key)
      WHERE e.subject = $1 AND e.type = $2 AND ($3::text IS NULL OR e.outcome = $3)`,
    [filter.subject, filter.type, filter.outcome ?? null],
  );
  return rows[0]!.n;
}
