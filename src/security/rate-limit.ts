import type Koa from 'koa';
import type pg from 'pg';
import { addRateLimitCounts, deleteRateLimitWindowsBefore } from '../store/rate-limit-counters.ts';

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
  /** While the shared total of a key first seen in this window is being read. */
  learning?: Promise<void> | undefined;
}

/**
 * Fixed-window rate limits shared across processes without a query per request: each process
 * counts locally and, about once a second, adds its counts to PostgreSQL and reads the totals back
 * (and reads them once when a key first appears in a window). A burst spread over processes can
 * overshoot by at most what they admit in one sync interval.
 */
export class RateLimiter {
  readonly #db: pg.Pool;
  readonly #rules: RateLimitRule[];
  readonly #windowMs: number;
  readonly #now: () => Date;
  /** Per rule, by key: no string is built per request to find a counter. */
  readonly #counters = new Map<RateLimitRule, Map<string, Counter>>();
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
        counter = { key: `${rule.name}:${key}`, windowStart, shared: 0, unsynced: 0 };
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
      if (counter.shared + counter.unsynced >= rule.limit) {
        const retryAfter = Math.max(1, Math.ceil((counter.windowStart + this.#windowMs - now) / 1000));
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

  /** Never rejects: with the database away the key counts locally, and the next sync tries again. */
  #learnShared(counter: Counter): Promise<void> {
    return addRateLimitCounts(this.#db, new Date(counter.windowStart), [{ key: counter.key, delta: 0 }])
      .then((totals) => {
        counter.shared = Math.max(counter.shared, totals.get(counter.key) ?? 0);
      })
      .catch(() => {})
      .finally(() => {
        counter.learning = undefined;
      });
  }

  /** Adds this process's counts to the shared ones and learns the totals; drops old windows. */
  async sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const now = this.#now().getTime();
      const currentWindow = now - (now % this.#windowMs);
      const entries: Array<{ counter: Counter; delta: number }> = [];
      for (const counters of this.#counters.values())
        for (const [key, counter] of counters)
          if (counter.windowStart < currentWindow) counters.delete(key);
          else entries.push({ counter, delta: counter.unsynced });
      if (entries.length === 0) return;
      const totals = await addRateLimitCounts(
        this.#db,
        new Date(currentWindow),
        entries.map(({ counter, delta }) => ({ key: counter.key, delta })),
      );
      for (const { counter, delta } of entries) {
        counter.unsynced -= delta;
        counter.shared = totals.get(counter.key) ?? counter.shared;
      }
      await deleteRateLimitWindowsBefore(this.#db, new Date(currentWindow - this.#windowMs));
    } finally {
      this.#syncing = false;
    }
  }
}
