import type { Queryable } from './pool.ts';

/**
 * Adds each delta (0 reads only) to its window's counter and returns the totals of every process.
 * Counters are taken in key order: concurrent requests that share two counters never wait on each other's rows.
 */
export async function addRateLimitCounts(
  db: Queryable,
  windowStart: Date,
  deltas: Array<{ key: string; delta: number }>,
): Promise<Map<string, number>> {
  if (deltas.length === 0) return new Map();
  const { rows } = await db.query<{ key: string; count: number }>(
    `INSERT INTO rate_limit_counters AS c (key, window_start, count)
     SELECT key, $1, delta FROM unnest($2::text[], $3::int[]) AS d (key, delta) ORDER BY key
     ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + EXCLUDED.count
     RETURNING key, count`,
    [windowStart, deltas.map((d) => d.key), deltas.map((d) => d.delta)],
  );
  return new Map(rows.map((row) => [row.key, row.count]));
}

/** One key's totals of every process in the windows starting at `windowStarts` (0 where none). */
export async function readRateLimitTotals(
  db: Queryable,
  key: string,
  windowStarts: readonly Date[],
): Promise<number[]> {
  const { rows } = await db.query<{ window_start: Date; count: number }>(
    'SELECT window_start, count FROM rate_limit_counters WHERE key = $1 AND window_start = ANY($2::timestamptz[])',
    [key, windowStarts],
  );
  return windowStarts.map(
    (start) => rows.find((row) => row.window_start.getTime() === start.getTime())?.count ?? 0,
  );
}

export async function deleteRateLimitWindowsBefore(db: Queryable, before: Date): Promise<void> {
  await db.query('DELETE FROM rate_limit_counters WHERE window_start < $1', [before]);
}
