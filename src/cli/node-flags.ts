/**
 * The V8 flags Lock's server runs with: `npm start`, the Dockerfile's CMD, the `lock` command's
 * shebang and a cluster's workers (bench/lib/servers.ts starts Lock with them too). Keep those in
 * step with this list.
 *
 * `--max-semi-space-size=8` (MiB; V8's default on 64-bit is 16): under load, the young generation
 * grows to its largest, and a larger one lets more short-lived garbage pile up before each
 * scavenge. Measured on client credentials (docs/performance.md): peak RSS under load ~200 MiB
 * instead of ~320 MiB, with CPU per token within the noise (4 MiB saved a little more memory but
 * cost ~9 % CPU per token).
 *
 * `--heap-growing-percent=100`: after each full GC, V8 lets the old generation grow to twice what
 * survived it before the next, instead of up to four times. Lock's live heap under load is ~22 MiB,
 * and the headroom above it was most of the peak RSS: measured interleaved with warmed processes
 * (docs/performance.md, "Memory"), peak RSS 176–191 MiB instead of 233–242 MiB, CPU per token within
 * the noise (1.5×, `=50`, cost ~30 µs per token of GC marking).
 *
 * V8 reads both only at start: they cannot be set from inside the process.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=100'] as const;

/** `execArgv` with the server's flags added where the caller did not choose its own. */
export function withServerNodeFlags(execArgv: readonly string[]): string[] {
  const named = (flag: string) => flag.split('=')[0]!;
  const chosen = new Set(execArgv.map(named));
  return [...execArgv, ...SERVER_NODE_FLAGS.filter((flag) => !chosen.has(named(flag)))];
}

/**
 * Where Node keeps the compiled form of Lock's modules between starts (`NODE_COMPILE_CACHE`: V8's
 * code cache and the type-stripped source of each .ts file), relative to the checkout; `npm start`
 * and the Dockerfile set it (bench/lib/servers.ts too). With every module found there, Node never
 * loads its TypeScript stripper (a WebAssembly module whose source and memory, ~6 MiB, would
 * otherwise stay in the heap for the process's life and be marked by every full GC), and the server
 * starts about a third faster. Entries are keyed by content: a changed file is compiled again.
 */
export const COMPILE_CACHE_DIR = 'node_modules/.cache/lock';

/**
 * The environment the server starts with, beside NODE_COMPILE_CACHE (`npm start` and the Dockerfile
 * set both; bench/lib/servers.ts too). `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates
 * (libuv's pool signing tokens and writing the log, V8's GC helpers) an arena of its own, and memory
 * freed in one is not reused by another; two arenas keep RSS under load lower (measured in
 * docs/performance.md, "Memory") at no measurable CPU cost. glibc reads it only at start.
 */
export const SERVER_ENV = { MALLOC_ARENA_MAX: '2' } as const;
