import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { type Env, workersSetting } from '../config/env.ts';
import { ConfigError } from '../config/schema-errors.ts';
import { serveClusterMetrics } from '../observability/cluster-metrics.ts';
import { flushLog, type Logger } from '../observability/logger.ts';
import { type Database, openDatabase } from '../store/database.ts';
import { withServerNodeFlags } from './node-flags.ts';

/** A crashed worker comes back after 1 s, 2 s, 4 s, … at most 30 s; a minute of running resets it. */
const FIRST_RESTART_DELAY_MS = 1_000;
const MAX_RESTART_DELAY_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;
/** Each worker bounds its own drain at 10 s; past this the primary stops waiting. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * `--workers N|auto`, else LOCK_WORKERS: how many worker processes `lock serve` forks; undefined
 * when neither is set (one process, no cluster: `lock serve` as it always was).
 */
export function workerCount(flag: string | undefined, variable: string | undefined): number | undefined {
  let value = variable; // LOCK_WORKERS, already checked by loadEnv
  if (flag !== undefined) {
    const parsed = workersSetting.safeParse(flag);
    if (!parsed.success)
      throw new ConfigError('the command line', [
        `--workers: ${parsed.error.issues[0]!.message}, not "${flag}"`,
      ]);
    value = parsed.data;
  }
  if (value === undefined) return undefined;
  return value === 'auto' ? availableParallelism() : Number(value);
}

interface Slot {
  worker?: Worker;
  startedAt: number;
  failures: number;
  restart?: NodeJS.Timeout;
}

/**
 * The primary of `lock serve --workers N`: starts the embedded PostgreSQL once (when there is no
 * DATABASE_URL), forks the workers, which share the port, restarts a worker that dies, and on
 * SIGTERM/SIGINT lets every worker drain and exits 0. It serves nothing itself.
 *
 * The first worker starts alone and does what a single process does at start (migrations, KEK,
 * signing keys, the declarative file, the bootstrap admin); the others and every replacement
 * start after it is ready, without LOCK_CONFIG, so the file is applied once per start of Lock and
 * they only find everything in place.
 */
export async function runCluster(env: Env, count: number, log: Logger): Promise<void> {
  const started = performance.now();
  const database: Database | undefined = env.DATABASE_URL
    ? undefined
    : await openDatabase(env, log, 'lock-primary');
  const workerEnv = database ? { DATABASE_URL: database.url } : {};
  const slots: Slot[] = Array.from({ length: count }, () => ({ startedAt: 0, failures: 0 }));
  const listened = new WeakSet<Worker>();
  let serving = false;
  let stopping = false;

  // Workers run with the server's V8 flags even when the primary was started without them.
  cluster.setupPrimary({ execArgv: withServerNodeFlags(process.execArgv) });
  const fork = (slot: Slot, applyConfig: boolean): Worker => {
    const worker = cluster.fork({ ...workerEnv, ...(!applyConfig && { LOCK_CONFIG: '' }) });
    slot.worker = worker;
    slot.startedAt = performance.now();
    worker.once('listening', (address) => {
      listened.add(worker);
      log.info({ worker: worker.id, workerPid: worker.process.pid, port: address.port }, 'worker ready');
    });
    return worker;
  };

  const stop = async (reason: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const running = slots.flatMap((slot) => {
      clearTimeout(slot.restart);
      return slot.worker && !isGone(slot.worker) ? [slot.worker] : [];
    });
    log.info({ reason, workers: running.length }, 'shutting down');
    // Each worker drains on SIGTERM as a single Lock does: stop accepting, finish in-flight requests.
    for (const worker of running) worker.process.kill('SIGTERM');
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      log.error({ timeoutMs: STOP_TIMEOUT_MS }, 'workers did not stop in time: killing them');
      for (const worker of running) worker.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await Promise.all(running.map((worker) => exited(worker)));
    clearTimeout(timer);
    await database?.close();
    log.info('stopped');
    await flushLog(log);
    process.exit(forced ? 1 : exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A scrape of /metrics reaches one worker, which asks here for every worker's counts.
  serveClusterMetrics();

  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.find((candidate) => candidate.worker === worker);
    // A worker that never served during start-up is a failed start, handled below.
    if (stopping || !slot || (!serving && !listened.has(worker))) return;
    if (performance.now() - slot.startedAt >= HEALTHY_AFTER_MS) slot.failures = 0;
    const delayMs = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** slot.failures);
    slot.failures += 1;
    log.error(
      { worker: worker.id, workerPid: worker.process.pid, code, signal, restartInMs: delayMs },
      'worker exited: restarting it',
    );
    slot.restart = setTimeout(() => fork(slot, false), delayMs);
  });

  // Start-up: a worker that ends before it serves means Lock cannot start (bad file, port in use…).
  const [first, ...others] = slots;
  const outcomes = [await ready(fork(first!, true))];
  if (outcomes[0] === 'listening')
    outcomes.push(...(await Promise.all(others.map((slot) => ready(fork(slot, false))))));
  if (stopping) return;
  const failure = outcomes.findIndex((outcome) => outcome !== 'listening');
  if (failure >= 0) {
    const worker = slots[failure]!.worker!;
    log.fatal(
      { worker: worker.id, workerPid: worker.process.pid, code: outcomes[failure] },
      'a worker could not start',
    );
    return stop('start-up failure', (outcomes[failure] as number) || 1);
  }
  serving = true;
  log.info(
    {
      workers: count,
      workerPids: slots.map((slot) => slot.worker!.process.pid),
      ms: Math.round(performance.now() - started),
    },
    'all workers ready',
  );
}

/** 'listening' once the worker serves, or its exit code when it ends first. */
function ready(worker: Worker): Promise<'listening' | number> {
  return new Promise((resolve) => {
    worker.once('listening', () => resolve('listening'));
    worker.once('exit', (code: number | null) => resolve(code ?? 1));
  });
}

function isGone(worker: Worker): boolean {
  return worker.process.exitCode !== null || worker.process.signalCode !== null;
}

function exited(worker: Worker): Promise<void> {
  if (isGone(worker)) return Promise.resolve();
  return new Promise((resolve) => worker.once('exit', () => resolve()));
}
