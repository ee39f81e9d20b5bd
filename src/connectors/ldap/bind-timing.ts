import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long a user bind takes here, as a moving average: an unknown username waits about as long
 * as a bind would have taken, so response times do not tell which names the directory knows.
 */
export class BindTiming {
  #averageMs: number;

  constructor(initialMs = 15) {
    this.#averageMs = initialMs;
  }

  record(durationMs: number): void {
    // Outliers (a slow directory moment) move the average only a little.
    this.#averageMs = 0.8 * this.#averageMs + 0.2 * Math.min(durationMs, 4 * this.#averageMs + 50);
  }

  /** Waits one typical bind, with ±10 % jitter. */
  async waitLikeABind(): Promise<void> {
    await sleep(this.#averageMs * (0.9 + Math.random() * 0.2));
  }
}
