// autocannon ships no types; this covers the part of its programmatic API the benchmarks use.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Stop after this many requests instead of after `duration`. */
    amount?: number;
    /** Seconds. */
    timeout?: number;
  }

  /** Percentiles are named like p50, p97_5, p99; latencies are in milliseconds. */
  export interface Histogram {
    average: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
  }

  export interface Result {
    /** Seconds. */
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    resets: number;
    latency: Histogram;
    requests: Histogram & { sent: number };
    statusCodeStats: Record<string, { count: number }>;
  }

  /** A run with `skipAggregateResult`: histograms still encoded, for `aggregateResult`. */
  export interface RawResult {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }

  export interface Instance<T> extends EventEmitter, PromiseLike<T> {
    stop(): void;
  }

  export default function autocannon(options: Options & { skipAggregateResult: true }): Instance<RawResult>;
  export default function autocannon(options: Options): Instance<Result>;

  /** Merges runs made with `skipAggregateResult` (their latency histograms included). */
  export function aggregateResult(
    results: RawResult[],
    options: { url: string; connections?: number },
  ): Result;
}
