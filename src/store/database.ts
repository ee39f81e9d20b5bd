import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import type { Logger } from '../observability/logger.ts';
import { type EmbeddedDatabase, embeddedUrl, startEmbeddedPostgres } from './embedded-postgres.ts';
import { createPool } from './pool.ts';

export interface Database {
  url: string;
  pool: pg.Pool;
  /** Whether this process started (and so stops) an embedded PostgreSQL. */
  embedded: boolean;
  close(): Promise<void>;
}

export interface DatabaseSettings {
  DATABASE_URL?: string | undefined;
  LOCK_DATA_DIR: string;
  LOCK_DB_POOL_SIZE: number;
}

/**
 * The external PostgreSQL at DATABASE_URL, or else the embedded one under LOCK_DATA_DIR: started
 * here, or joined when another Lock process on this machine already runs it.
 */
export async function openDatabase(
  settings: DatabaseSettings,
  log: Logger,
  applicationName = 'lock',
): Promise<Database> {
  let url = settings.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  if (!url) {
    url = runningEmbeddedUrl(settings.LOCK_DATA_DIR);
    if (url)
      log.info(
        { dataDir: settings.LOCK_DATA_DIR },
        'using the embedded PostgreSQL another Lock process runs',
      );
    else {
      log.info({ dataDir: settings.LOCK_DATA_DIR }, 'starting embedded PostgreSQL');
      embedded = await startEmbeddedPostgres({
        dataDir: settings.LOCK_DATA_DIR,
        onLog: (line) => log.debug({ postgres: line }, 'embedded postgres'),
      });
      url = embedded.url;
    }
  }
  const pool = createPool({ url, max: settings.LOCK_DB_POOL_SIZE, applicationName });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    await embedded?.stop();
    throw new Error(`cannot reach the database at ${describeUrl(url)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return {
    url,
    pool,
    embedded: embedded !== undefined,
    async close() {
      await pool.end().catch(() => {});
      await embedded?.stop();
    },
  };
}

/** postmaster.pid names the port of a running cluster; its password is in the data directory. */
function runningEmbeddedUrl(dataDir: string): string | undefined {
  const pidFile = join(resolve(dataDir), 'pg', 'postmaster.pid');
  const stateFile = join(resolve(dataDir), 'embedded-postgres.json');
  if (!existsSync(pidFile) || !existsSync(stateFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  try {
    process.kill(Number(pid), 0);
  } catch {
    return undefined;
  }
  const { password } = JSON.parse(readFileSync(stateFile, 'utf8')) as { password: string };
  return embeddedUrl(password, join(resolve(dataDir), 'pg'), Number(port));
}

/** host:port/database (a socket directory as the host), never the password. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.searchParams.get('host') ?? parsed.hostname;
    return `${host}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}
