import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';
import { migrate } from '../../src/store/migrate.ts';
import { createPool } from '../../src/store/pool.ts';

let serverUrl: Promise<string> | undefined;

/** The suite's PostgreSQL (started by test/run.ts), or one of this process's own when run alone. */
function databaseServer(): Promise<string> {
  serverUrl ??= (async () => {
    if (process.env.LOCK_TEST_DATABASE_URL) return process.env.LOCK_TEST_DATABASE_URL;
    if (process.env.CI === 'true')
      throw new Error('LOCK_TEST_DATABASE_URL is not set: run the suite with `npm test`');
    const database = await startEmbeddedPostgres({ dataDir: await mkdtemp(join(tmpdir(), 'lock-test-pg-')) });
    process.on('exit', () => void database.stop());
    return database.url;
  })();
  return serverUrl;
}

const withDatabase = (url: string, name: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
};

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A database of its own for one test file: empty, or with Lock's migrations applied. */
export async function createTestDatabase({ migrated = true } = {}): Promise<TestDatabase> {
  const server = await databaseServer();
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(server);
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(server, name);
  const pool = createPool({ url, max: 5 });
  if (migrated) await migrate(pool);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client(server);
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
