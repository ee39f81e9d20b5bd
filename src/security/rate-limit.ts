import type Koa from 'koa';
import type pg from 'pg';
import { addRateLimitCounts, deleteRateLimitWindowsBefore } from '../store/rate-limit-counters.ts';

export interface RateLimitRule {
  /** e.g. `token:client` — also the prefix of its counters. */
  name: string;
  /** Requests allowed per window for one key. */
  limit: number;
  /** The key this request counts against (a client id, an address), or undefined when the rule does not apply. */
  keyOf: (ctx: Koa.Context) => string | undefined;
}

interface Counter {
  windowStart: number;
  /** What every process had counted at the last sync. */
  shared: number;
  /** What this process counted since. */
  unsynced: number;
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
  readonly #counters = new Map<string, Counter>();
  #timer: NodeJS.Timeout | undefined;
  #syncing = false;

  constructor(db: pg.Pool, rules: RateLimitRule[], options: { windowSeconds: number; now?: () => Date }) {
    this.#db = db;
    this.#rules = rules;
    this.#windowMs = options.windowSeconds * 1000;
    this.#now = options.now ?? (() => new Date());
  }

  start(syncMs = 1000): void {
    this.#timer = setInterval(() => void this.sync().catch(() => {}), syncMs).unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Koa middleware: 429 with Retry-After once any applicable rule's key is over its limit. */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      const now = this.#now().getTime();
      const windowStart = now - (now % this.#windowMs);
      for (const rule of this.#rules) {
        const key = rule.keyOf(ctx);
        if (key === undefined) continue;
        const counterKey = `${rule.name}:${key}`;
        let counter = this.#counters.get(counterKey);
        if (!counter || counter.windowStart !== windowStart) {
          // First sight of this key in this window: learn what other processes counted (one
          // query per key and window, never per request).
          counter = { windowStart, shared: 0, unsynced: 0 };
          this.#counters.set(counterKey, counter);
          // A database outage must not take the endpoints down with it: count locally meanwhile.
          const totals = await addRateLimitCounts(this.#db, new Date(windowStart), [
            { key: counterKey, delta: 0 },
          ]).catch(() => new Map<string, number>());
          counter.shared = Math.max(counter.shared, totals.get(counterKey) ?? 0);
        }
        if (counter.shared + counter.unsynced >= rule.limit) {
          const retryAfter = Math.max(1, Math.ceil((windowStart + this.#windowMs - now) / 1000));
          ctx.status = 429;
          ctx.set('Retry-After', String(retryAfter));
          ctx.body = {
            error: 'too_many_requests',
            error_description: `rate limit of ${rule.limit} per window exceeded; retry after ${retryAfter} s`,
          };
          return;
        }
        counter.unsynced++;
      }
      await next();
    };
  }

  /** Adds this process's counts to the shared ones and learns the totals; drops old windows. */
  async sync(): Promise<void> {
    if (this.#syncing) return;
    this.#syncing = true;
    try {
      const now = this.#now().getTime();
      const currentWindow = now - (now % this.#windowMs);
      for (const [key, counter] of this.#counters)
        if (counter.windowStart < currentWindow) this.#counters.delete(key);
      const entries = [...this.#counters].map(([key, counter]) => ({
        key,
        counter,
        delta: counter.unsynced,
      }));
      if (entries.length === 0) return;
      const totals = await addRateLimitCounts(
        this.#db,
        new Date(currentWindow),
        entries.map(({ key, delta }) => ({ key, delta })),
      );
      for (const { key, counter, delta } of entries) {
        counter.unsynced -= delta;
        counter.shared = totals.get(key) ?? counter.shared;
      }
      await deleteRateLimitWindowsBefore(this.#db, new Date(currentWindow - this.#windowMs));
    } finally {
      this.#syncing = false;
    }
  }
}
