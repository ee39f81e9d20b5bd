import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.ts';

export interface BenchPostgres {
  /** The `postgres` database: for administration and for reading statistics about the others. */
  adminUrl: string;
  version: string;
  /** Whether pg_stat_statements is loaded, so that statements can be counted per database. */
  statementsTracked: boolean;
  createDatabase(): Promise<{ name: string; url: string }>;
  /** The postmaster's pid (postmaster.pid's first line): its children are the backends. */
  postmasterPid(): number;
  stop(): Promise<void>;
}

/**
 * An embedded PostgreSQL in `dataDir`, restarted once so that pg_stat_statements is preloaded: it
 * counts the statements a database runs at once and exactly, which the delayed per-transaction
 * statistics cannot.
 */
export async function startBenchPostgres(dataDir: string): Promise<BenchPostgres> {
  const first = await startEmbeddedPostgres({ dataDir });
  try {
    await withClient(first.url, (client) =>
      client.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"),
    );
  } finally {
    await first.stop();
  }
  const cluster = await startEmbeddedPostgres({ dataDir });
  try {
    const { version, statementsTracked } = await withClient(cluster.url, async (client) => {
      const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
      const tracked = await client
        .query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
        .then(() => true)
        .catch(() => false);
      return { version: rows[0]?.server_version ?? 'unknown', statementsTracked: tracked };
    });
    return {
      adminUrl: cluster.url,
      version,
      statementsTracked,
      async createDatabase() {
        const name = `bench_${randomBytes(6).toString('hex')}`;
        await withClient(cluster.url, (client) => client.query(`CREATE DATABASE ${name}`));
        const url = new URL(cluster.url);
        url.pathname = `/${name}`;
        return { name, url: url.toString() };
      },
      postmasterPid: () => Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]),
      stop: () => cluster.stop(),
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

export async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'lock-bench' });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
