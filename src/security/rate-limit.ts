import type Koa from 'koa';
import type pg from 'pg';
import {
  addRateLimitCounts,
  deleteRateLimitWindowsBefore,
  readRateLimitTotals,
} from '../store/rate-limit-counters.ts';

export interface RateLimitRule {
  /** e.g. `token:client` — also the prefix of its counters. */
  name: string;
  /** Requests allowed per window for one key. */
  limit: number;
  /** Whether the rule applies to a request with this method and path (the routed path: src/http/routed-path.ts). */
  appliesTo: (method: string, path: string) => boolean;
  /** The key this request counts against (a client id, an address), if it has one. */
  keyOf: (ctx: Koa.Context) => string | undefined;
}

interface Counter {
  /** `rule:key`, as stored in PostgreSQL. */
  key: string;
  windowStart: number;
  /** What every process had counted at the last sync. */
  shared: number;
  /** What this process counted since. */
  unsynced: number;
  /** The key's total in the window before (every process's, as last known). */
  previous: number;
  /** While the shared totals of a key first seen in this window are being read. */
  learning?: Promise<void> | undefined;
}

/**
 * Rate limits over a sliding window, shared across processes without a query per request: each
 * process counts locally and, about once a second, adds its counts to PostgreSQL and reads the
 * totals back (and reads them once when a key first appears in a window). A burst spread over
 * processes can overshoot by at most what they admit in one sync interval.
 *
 * The window slides: a request is admitted while this window's count plus the previous window's,
 * weighted by how much of the previous window the last `window` seconds still cover, is under the
 * limit. Fixed windows alone would let a burst at the end of one window and another at the start
 * of the next through: twice the limit within a second.
 */
export class RateLimiter {
  readonly #db: pg.Pool;
  readonly #rules: RateLimitRule[];
  readonly #windowMs: number;
  readonly #now: () => Date;
  /** Per rule, by key: no string is built per request to find a counter. */
  readonly #counters = new Map<RateLimitRule, Map<string, Counter>>();
  /** Counts of counters replaced by a new window before the sync added them: the next sync adds them. */
  #leftovers: Array<{ counter: Counter; delta: number }> = [];
  #timer: NodeJS.Timeout | undefined;
  #syncing = false;

  constructor(db: pg.Pool, rules: RateLimitRule[], options: { windowSeconds: number; now?: () => Date }) {
    this.#db = db;
    this.#rules = rules;
    for (const rule of rules) this.#counters.set(rule, new Map());
    this.#windowMs = options.windowSeconds * 1000;
    this.#now = options.now ?? (() => new Date());
  }

  start(syncMs = 1000): void {
    this.#timer = setInterval(() => void this.sync().catch(() => {}), syncMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Counts the request against every rule that applies to it (`path`: as the routers see it, one
   * spelling for /token, /TOKEN and /token/): true to go on, false once a key is
   * over its limit (the request is then answered 429 with Retry-After). Synchronous in the steady
   * state; a key first seen in a window first learns what other processes counted (one query per
   * key and window, never per request), and the requests that meet it meanwhile wait for that.
   */
  admit(ctx: Koa.Context, path: string): boolean | Promise<boolean> {
    const { method } = ctx;
    const now = this.#now().getTime();
    const windowStart = now - (now % this.#windowMs);
    const applicable: Array<{ rule: RateLimitRule; counter: Counter }> = [];
    let learning: Array<Promise<void>> | undefined;
    for (const rule of this.#rules) {
      if (!rule.appliesTo(method, path)) continue;
      const key = rule.keyOf(ctx);
      if (key === undefined) continue;
      const counters = this.#counters.get(rule)!;
      let counter = counters.get(key);
      if (!counter || counter.windowStart !== windowStart) {
        const before = counter;
        if (before && before.unsynced > 0) this.#leftovers.push({ counter: before, delta: before.unsynced });
        counter = {
          key: `${rule.name}:${key}`,
          windowStart,
          shared: 0,
          unsynced: 0,
          previous:
            before?.windowStart === windowStart - this.#windowMs ? before.shared + before.unsynced : 0,
        };
        counter.learning = this.#learnShared(counter);
        counters.set(key, counter);
      }
      if (counter.learning) {
        learning ??= [];
        learning.push(counter.learning);
      }
      applicable.push({ rule, counter });
    }
    if (learning) return Promise.all(learning).then(() => this.#count(ctx, applicable, now));
    return this.#count(ctx, applicable, now);
  }

  #count(
    ctx: Koa.Context,
    applicable: Array<{ rule: RateLimitRule; counter: Counter }>,
    now: number,
  ): boolean {
    for (const { rule, counter } of applicable) {
      const covered = 1 - (now - counter.windowStart) / this.#windowMs;
      if (counter.previous * covered + counter.shared + counter.unsynced >= rule.limit) {
        const retryAfter = this.#secondsUntilAdmitted(rule.limit, counter, now);
        ctx.status = 429;
        ctx.set('Retry-After', String(retryAfter));
        ctx.body = {
          error: 'too_many_requests',
          error_description: `rate limit of ${rule.limit} per window exceeded; retry after ${retryAfter} s`,
        };
        return false;
      }
    }
    for (const { counter } of applicable) counter.unsynced++;
    return true;
  }

  /** How long, with no more requests, until the key's estimate is under the limit again. */
  #secondsUntilAdmitted(limit: number, counter: Counter, now: number): number {
    const window = this.#windowMs;
    const elapsed = now - counter.windowStart;
    const current = counter.shared + counter.unsynced;
    const waitMs =
      current < limit
        ? // the previous window's share falls below what is left: previous × (1 − t/W) < limit − current
          window * (1 - (limit - current) / counter.previous) - elapsed
        : // into the next window, where this one's count is the previous: current × (1 − t/W) < limit
          window - elapsed + window * (1 - limit / current);
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  /** Never rejects: with the database away the key counts locally, and the next sync tries again. */
  #learnShared(counter: Counter): Promise<void> {
    const windows = [new Date(counter.windowStart), new Date(counter.windowStart - this.#windowMs)];
    return readRateLimitTotals(this.#db, counter.key, windows)
      .then(([current, previous]) => {
        counter.shared = Math.max(counter.shared, current!);
        counter.previous = Math.max(counter.previous, previous!);
      })
      .catch(() => {})
      .finally(() => {
        counter.learning = undefined;
      });
  }

  /**
   * Adds this process's counts to the shared ones and learns the totals: the current window's, and
   * what the last window still had to add (it weighs on the current one). Drops older windows.
   */
  async sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const now = this.#now().getTime();
      const currentWindow = now - (now % this.#windowMs);
      // Per window, per key: one key may have two counters of one window (a clock set back), and
      // one statement may not update a row twice.
      const byWindow = new Map<number, Map<string, Array<{ counter: Counter; delta: number }>>>();
      const add = (entry: { counter: Counter; delta: number }) => {
        const keys = byWindow.get(entry.counter.windowStart) ?? new Map();
        keys.set(entry.counter.key, [...(keys.get(entry.counter.key) ?? []), entry]);
        byWindow.set(entry.counter.windowStart, keys);
      };
      for (const leftover of this.#leftovers.splice(0)) add(leftover);
      for (const counters of this.#counters.values())
        for (const [key, counter] of counters) {
          if (counter.windowStart >= currentWindow) add({ counter, delta: counter.unsynced });
          else {
            if (counter.unsynced > 0) add({ counter, delta: counter.unsynced });
            // The last window's counter stays, so that the key's next request weighs it at once.
            if (counter.windowStart < currentWindow - this.#windowMs) counters.delete(key);
          }
        }
      for (const [windowStart, keys] of byWindow) {
        if (windowStart < currentWindow - this.#windowMs) continue; // weighs on no window any more
        const totals = await addRateLimitCounts(
          this.#db,
          new Date(windowStart),
          [...keys].map(([key, entries]) => ({ key, delta: entries.reduce((sum, e) => sum + e.delta, 0) })),
        );
        for (const entries of keys.values())
          for (const { counter, delta } of entries) {
            counter.unsynced -= delta;
            counter.shared = totals.get(counter.key) ?? counter.shared;
          }
      }
      if (byWindow.size > 0)
        await deleteRateLimitWindowsBefore(this.#db, new Date(currentWindow - this.#windowMs));
    } finally {
      this.#syncing = false;
    }
  }
}
