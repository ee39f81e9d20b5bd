import { createLock, type Lock } from '../app.ts';
import { loadEnv } from '../config/env.ts';
import { createLogger } from '../http/logger.ts';
import { exitWithError } from './output.ts';

/** `lock serve`: start, listen, and shut down gracefully on SIGTERM/SIGINT. */
export async function serve(): Promise<void> {
  let env: ReturnType<typeof loadEnv>;
  try {
    env = loadEnv();
  } catch (error) {
    return exitWithError(error);
  }
  const log = createLogger(env.LOG_LEVEL);
  const started = performance.now();
  let lock: Lock | undefined;
  try {
    lock = await createLock(env, log);
    const port = await lock.listen(env.PORT, env.HOST);
    log.info({ issuer: env.LOCK_ISSUER, port, ms: Math.round(performance.now() - started) }, 'Lock is ready');
  } catch (error) {
    log.fatal({ err: { message: (error as Error).message } }, 'Lock could not start');
    await lock?.close().catch(() => {});
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
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
