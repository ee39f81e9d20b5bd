// The window slides: a burst at the end of one window and another at the start of the next do not
// get twice the limit through. Lock's clock is moved instead of waiting; two processes share the
// counts, so the one that has not seen the key learns the last window's from PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type Koa from 'koa';
import { RateLimiter } from '../../src/security/rate-limit.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

const LIMIT = 10;
const WINDOW_MS = 60_000;

describe('rate limits over a sliding window', () => {
  let first: RunningLock;
  let second: RunningLock;
  let offset = 0;
  /** A window's start ahead of the real clock: Lock's clock is set relative to it. */
  const base = (Math.floor(Date.now() / WINDOW_MS) + 2) * WINDOW_MS;
  /** Sets Lock's clock to `ms` into the `index`th window from `base` (it runs on from there). */
  const moveTo = (index: number, ms: number) => {
    offset = base + index * WINDOW_MS + ms - Date.now();
  };

  before(async () => {
    const options = {
      config: tokenConfig,
      env: { LOCK_RATE_LIMIT_TOKEN: String(LIMIT), LOCK_RATE_LIMIT_WINDOW: String(WINDOW_MS / 1000) },
      now: () => new Date(Date.now() + offset),
    };
    first = await startLock(options);
    second = await startLock({ ...options, database: first.database, keysDir: first.keysDir });
  });
  after(async () => {
    await second.close();
    await first.close();
    await first.database.drop();
  });

  /** `count` token requests of a made-up client from this address (counted per address): their statuses. */
  const burst = async (lock: RunningLock, count: number) => {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const response = await postForm(`${lock.issuer}/token`, { grant_type: 'client_credentials' }, [
        'no-such-client',
        SECRET,
      ]);
      statuses.push(response.status);
      if (response.status === 429) statuses.push(Number(response.headers.get('retry-after')) * 1000);
    }
    return statuses;
  };
  const admitted = (statuses: number[]) =>
    statuses.filter((status) => status !== 429 && status < 1000).length;

  it('a burst at the end of a window and one at the start of the next: the limit once, not twice', async () => {
    moveTo(0, 59_000);
    assert.equal(admitted(await burst(first, LIMIT + 1)), LIMIT, 'the limit, then 429');
    await sleep(1_500); // the first process adds its counts to PostgreSQL about once a second

    moveTo(1, 500); // half a second into the next window, on the process that never saw this address
    const next = await burst(second, LIMIT);
    assert.ok(admitted(next) <= 1, `${admitted(next)} of ${LIMIT} let through half a second later`);
    // Retry-After: until the last window's weight leaves room, about 5.5 s after 0.5 s (1 admitted).
    const retryAfterMs = next.find((value) => value >= 1000)!;
    assert.ok(retryAfterMs >= 5_000 && retryAfterMs <= 7_000, `Retry-After ${retryAfterMs / 1000} s`);

    // Half the last window still counts: 10 × 0.49 ≈ 4.9 and what was let through, under 10 for
    // 6 − that more requests.
    moveTo(1, 30_500);
    assert.equal(admitted(await burst(second, LIMIT)), 6 - admitted(next));
  });

  it('a clock set back and forth across windows: every count reaches PostgreSQL, none twice in one statement', async () => {
    let now = base;
    const limiter = new RateLimiter(
      first.database.pool,
      [{ name: 'clock-test', limit: 100, appliesTo: () => true, keyOf: () => 'k' }],
      { windowSeconds: WINDOW_MS / 1000, now: () => new Date(now) },
    );
    const ctx = { method: 'POST', set() {} } as unknown as Koa.Context;
    // Windows 1, 0, 1, 0: each request starts its window's counter anew.
    for (const index of [1, 0, 1, 0]) {
      now = base + index * WINDOW_MS + 1_000;
      assert.equal(await limiter.admit(ctx, '/'), true);
    }
    now = base + WINDOW_MS + 2_000;
    await limiter.sync();
    const { rows } = await first.database.pool.query<{ window_start: Date; count: number }>(
      "SELECT window_start, count FROM rate_limit_counters WHERE key = 'clock-test:k' ORDER BY window_start",
    );
    assert.deepEqual(
      rows.map((row) => [row.window_start.getTime() - base, row.count]),
      [
        [0, 2],
        [WINDOW_MS, 2],
      ],
    );
  });
});
