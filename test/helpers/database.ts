import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../../src/store/migrate.ts';
import { createPool } from '../../src/store/pool.ts';

/** The suite's PostgreSQL, started once per run by test/run.ts. */
function databaseServer(): Promise<string> {
  const url = process.env.LOCK_TEST_DATABASE_URL;
  if (!url)
    throw new Error(
      'LOCK_TEST_DATABASE_URL is not set: run tests with `npm test` (or `npm test -- test/some/file.test.ts`)',
    );
  return Promise.resolve(url);
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
