import type { LoadSettings } from './http-load.ts';

export interface BenchSettings extends LoadSettings {
  /** Token requests whose database work is counted (spread over the algorithms). */
  dbCountedRequests: number;
  /** Per algorithm, for the raw jose signing rate. */
  joseDurationMs: number;
  /** BENCH_ONLY: the parts to run (see BENCH_PARTS); all when unset. */
  only: readonly BenchPart[];
}

/** What BENCH_ONLY may name, comma-separated: `BENCH_ONLY=client-credentials,refresh npm run bench`. */
export const BENCH_PARTS = [
  'client-credentials',
  'jwks',
  'workers',
  'login',
  'refresh',
  'signin-attacks',
  'interaction-flood',
  'jose',
  'db-count',
  'acs-flood',
] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export const runs = (settings: BenchSettings, part: BenchPart) => settings.only.includes(part);

function onlyParts(raw: string | undefined): BenchPart[] {
  if (raw === undefined || raw.trim() === '') return [...BENCH_PARTS];
  const named = raw.split(',').map((part) => part.trim());
  const unknown = named.filter((part) => !(BENCH_PARTS as readonly string[]).includes(part));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: unknown part ${unknown.join(', ')}; known: ${BENCH_PARTS.join(', ')}`);
  return named as BenchPart[];
}

/** Defaults keep a whole run to about seven minutes on two cores. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    durationS: positive(env, 'BENCH_DURATION', 10),
    warmupS: positive(env, 'BENCH_WARMUP', 3),
    connections: positive(env, 'BENCH_CONNECTIONS', 20),
    dbCountedRequests: 2100,
    joseDurationMs: 2000,
    only: onlyParts(env.BENCH_ONLY),
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
