import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import type { Lock } from '../app.ts';
import { loadEnv } from '../config/env.ts';
import { createLogger, flushLog, flushLogSync, type Logger } from '../observability/logger.ts';
import { runCluster, workerCount } from './cluster.ts';
import { exitWithError } from './output.ts';

export interface ServeOptions {
  /** `--workers N|auto`; LOCK_WORKERS when absent. Neither: one process, as always. */
  workers?: string | undefined;
}

/** `lock serve [--workers N|auto]`. */
export function serveCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { workers: { type: 'string' } } });
  return serve({ workers: values.workers });
}

/** `lock serve`: start, listen, and shut down gracefully on SIGTERM/SIGINT. */
export async function serve(options: ServeOptions = {}): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  let workers: number | undefined;
  try {
    env = loadEnv();
    // A forked worker re-runs this command line: it serves as a single process would.
    workers = cluster.isPrimary ? workerCount(options.workers, env.LOCK_WORKERS) : undefined;
  } catch (error) {
    return exitWithError(error);
  }
  const baseLog = createLogger(env.LOG_LEVEL);
  exitOnCrash(baseLog);
  if (workers !== undefined)
    return runCluster(env, workers, baseLog.child({ cluster: 'primary', pid: process.pid })).catch(
      exitWithError,
    );
  const log = cluster.worker ? baseLog.child({ worker: cluster.worker.id, pid: process.pid }) : baseLog;
  // Imported here, not above: a cluster's primary never loads the server itself.
  const { createLock } = await import('../app.ts');
  const { adminConsoleUrl } = await import('../admin/bootstrap.ts');
  const started = performance.now();
  let lock: Lock | undefined;
  try {
    lock = await createLock(env, log);
    const port = await lock.listen(env.PORT, env.HOST);
    log.info(
      {
        issuer: env.LOCK_ISSUER,
        adminConsole: adminConsoleUrl(env.LOCK_ISSUER),
        port,
        ms: Math.round(performance.now() - started),
      },
      'Lock is ready',
    );
  } catch (error) {
    log.fatal({ err: { message: (error as Error).message } }, 'Lock could not start');
    await lock?.close().catch(() => {});
    await flushLog(log);
    return exitWithError(error);
  }
  const running = lock;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await running.close().catch((error) => log.error({ err: error }, 'shutdown failed'));
    log.info('stopped');
    // The log is written asynchronously: the last requests' lines are still in its buffer.
    await flushLog(log);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * An error nothing caught ends the process, as Node would, but only after the fatal line and every
 * line before it (buffered: see createLogger) are written: synchronously, as nothing asynchronous
 * is trustworthy any more.
 */
export function exitOnCrash(log: Logger): void {
  const crash = (error: unknown, origin: string) => {
    log.fatal({ err: error, origin }, 'Lock crashed');
    flushLogSync(log);
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', crash);
}
