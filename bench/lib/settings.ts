import type { LoadSettings } from './http-load.ts';

export interface BenchSettings extends LoadSettings {
  /** Token requests whose database work is counted (spread over the algorithms). */
  dbCountedRequests: number;
  /** Per algorithm, for the raw jose signing rate. */
  joseDurationMs: number;
}

/** Defaults keep a whole run to about seven minutes on two cores. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    durationS: positive(env, 'BENCH_DURATION', 10),
    warmupS: positive(env, 'BENCH_WARMUP', 3),
    connections: positive(env, 'BENCH_CONNECTIONS', 20),
    dbCountedRequests: 2100,
    joseDurationMs: 2000,
  };
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive whole number, not ${raw}`);
  return value;
}
