import type { Queryable } from './pool.ts';

export interface PollOutcome {
  /** The poll came before the interval since the previous one was up: answer `slow_down`. */
  tooFast: boolean;
  /** The interval the device must now keep (grown on every poll that came too fast). */
  intervalSeconds: number;
}

/**
 * One statement per poll of a device code (migration 0025): records it, and says whether it came
 * too soon after the previous one. ON CONFLICT's row lock queues concurrent polls of one code, so
 * of two polls sent at once exactly one is in time. Every SET expression reads the row as it was.
 */
export async function recordDevicePoll(
  db: Queryable,
  poll: {
    codeHash: string;
    now: Date;
    intervalSeconds: number;
    slowDownIncrementSeconds: number;
    expiresAt: Date;
  },
): Promise<PollOutcome> {
  const { rows } = await db.query<{ too_fast: boolean; interval_seconds: number }>({
    name: 'record-device-poll',
    text: `INSERT INTO device_code_polls AS p (code_hash, polled_at, interval_seconds, too_fast, expires_at)
     VALUES ($1, $2::timestamptz, $3, false, $5::timestamptz)
     ON CONFLICT (code_hash) DO UPDATE SET
       too_fast = p.polled_at + make_interval(secs => p.interval_seconds) > $2::timestamptz,
       interval_seconds = CASE WHEN p.polled_at + make_interval(secs => p.interval_seconds) > $2::timestamptz
                               THEN p.interval_seconds + $4 ELSE p.interval_seconds END,
       polled_at = $2::timestamptz
     RETURNING too_fast, interval_seconds`,
    values: [poll.codeHash, poll.now, poll.intervalSeconds, poll.slowDownIncrementSeconds, poll.expiresAt],
  });
  const row = rows[0]!;
  return { tooFast: row.too_fast, intervalSeconds: row.interval_seconds };
}
