// Requests of one account, client or address write the same counter rows at once, each statement
// on several rows: sign-in attempts reserved, given back, cleared and pruned; client
// authentication failures counted and cleared; rate-limit windows counted. Two statements that
// take shared rows in different orders wait on each other, and PostgreSQL aborts one as a
// deadlock: a 500 for someone who typed the right password. These races run them every way at once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clearClientAuthFailures, recordClientAuthFailures } from '../../src/store/client-auth-failures.ts';
import {
  type AttemptCounter,
  clearAccountFailures,
  clearLoginFailures,
  pruneLoginFailures,
  releaseAttempts,
  reserveAttempts,
} from '../../src/store/login-failures.ts';
import { createPool, type Pool } from '../../src/store/pool.ts';
import { pruneExpiredRows } from '../../src/store/pruning.ts';
import { addRateLimitCounts } from '../../src/store/rate-limit-counters.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const RACERS = 40;
const ROUNDS = 60;
/** Keys listed against their sorted order, as the first requests leave them on disk. */
const KEYS = ['name:alice', 'interaction:x', 'address:127.0.0.1', 'account:local/alice'];

const counter = (key: string): AttemptCounter => ({
  key,
  threshold: 1_000,
  waitIncrementSeconds: 1,
  maxWaitSeconds: 60,
  resetAfterSeconds: 1,
  accountName: 'alice',
});

/** Every racer's statement, `ROUNDS` times over; the messages of those that failed. */
async function race(statement: (index: number, keys: string[]) => Promise<unknown>): Promise<string[]> {
  for (let round = 0; round < ROUNDS; round++) {
    const results = await Promise.allSettled(
      Array.from({ length: RACERS }, (_, index) => statement(index, index % 2 ? [...KEYS].reverse() : KEYS)),
    );
    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [`round ${round}: ${(result.reason as Error).message}`] : [],
    );
    if (failures.length > 0) return failures;
  }
  return [];
}

describe('counters written by concurrent requests of one account, client and address', () => {
  let database: TestDatabase;
  let pool: Pool;
  before(async () => {
    database = await createTestDatabase();
    pool = createPool({ url: database.url, max: RACERS });
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  it('sign-in attempts reserved, given back, cleared and pruned (alone and with every table) at once: none fails', async () => {
    for (const key of KEYS) await reserveAttempts(pool, new Date(), [counter(key)]);
    const failures = await race((index, keys) => {
      switch (index % 5) {
        case 0:
        case 1:
          return reserveAttempts(pool, new Date(), keys.map(counter));
        case 2:
          return releaseAttempts(pool, keys);
        case 3:
          return index % 2
            ? clearLoginFailures(pool, keys.slice(0, 2))
            : clearAccountFailures(pool, [], 'alice');
        default: {
          // Counters are a second old by then, past their one-second window.
          const later = new Date(Date.now() + 2_000);
          return index % 2
            ? pruneLoginFailures(pool, later)
            : pruneExpiredRows(pool, { now: later, rateLimitWindowSeconds: 60, auditRetentionDays: 1 });
        }
      }
    });
    assert.deepEqual(failures, []);
  });

  it('a pruning run passes over the counters a request holds, so it cannot close a cycle with it', async () => {
    // Two expired counters, on disk against their key order. A request takes `a` (key order), and
    // wants `b` next; a run that deleted `b` (disk order) and waited for `a` would be a deadlock.
    await pool.query('DELETE FROM login_failures');
    const long = new Date(Date.now() - 3_600_000);
    for (const key of ['b', 'a'])
      await reserveAttempts(pool, long, [{ ...counter(key), resetAfterSeconds: 60 }]);
    const request = await pool.connect();
    try {
      await request.query('BEGIN');
      await request.query("SELECT key FROM login_failures WHERE key = 'a' FOR UPDATE");
      const run = pruneExpiredRows(pool, {
        now: new Date(),
        rateLimitWindowSeconds: 60,
        auditRetentionDays: 1,
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const taken = await request.query("UPDATE login_failures SET failures = failures + 1 WHERE key = 'b'");
      await request.query('COMMIT');
      assert.equal((await run)?.login_failures, 1, 'the run deleted the counter nobody held');
      assert.equal(taken.rowCount, 0, 'and the request found it gone');
    } finally {
      request.release();
    }
    const { rows } = await pool.query('SELECT key FROM login_failures');
    assert.deepEqual(rows, [{ key: 'a' }], 'the held counter waits for the next run');
  });

  it('client authentication failures counted and cleared at once: none fails', async () => {
    const failures = await race((index, keys) =>
      index % 3
        ? recordClientAuthFailures(pool, {
            now: new Date(),
            resetAfterSeconds: 60,
            waitIncrementSeconds: 1,
            maxWaitSeconds: 60,
            counters: keys.map((key) => ({ key, threshold: 1_000 })),
          })
        : clearClientAuthFailures(pool, keys),
    );
    assert.deepEqual(failures, []);
  });

  it('rate-limit windows counted at once under keys in any order: none fails, none is lost', async () => {
    const window = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const failures = await race((_, keys) =>
      addRateLimitCounts(
        pool,
        window,
        keys.map((key) => ({ key, delta: 1 })),
      ),
    );
    assert.deepEqual(failures, []);
    const totals = await addRateLimitCounts(
      pool,
      window,
      KEYS.map((key) => ({ key, delta: 0 })),
    );
    assert.deepEqual(
      [...totals.values()],
      KEYS.map(() => RACERS * ROUNDS),
    );
  });
});
