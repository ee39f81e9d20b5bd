import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { ADVISORY_LOCKS, holdSessionLock, releaseSessionLock } from './advisory-locks.ts';
import { createPool, tx } from './pool.ts';

const MIGRATIONS_DIR = new URL('../../migrations/', import.meta.url).pathname;

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies the forward-only migrations in `migrations/NNNN_name.sql` that the database has not
 * seen, each in its own transaction, under an advisory lock so that processes starting together
 * on an empty database wait for each other instead of racing.
 */
export async function migrate(
  pool: pg.Pool,
  onProgress: (name: string) => void = () => {},
): Promise<MigrationResult> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file)).sort();
  const lockClient = await pool.connect();
  try {
    await holdSessionLock(lockClient, ADVISORY_LOCKS.migrations);
    await lockClient.query(`CREATE TABLE IF NOT EXISTS lock_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set(
      (await lockClient.query<{ name: string }>('SELECT name FROM lock_migrations')).rows.map(
        (row) => row.name,
      ),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(join(MIGRATIONS_DIR, file), 'utf8');
      onProgress(file);
      await tx(pool, async (client) => {
        await client.query(sql);
        await client.query('INSERT INTO lock_migrations (name) VALUES ($1)', [file]);
      });
      applied.push(file);
    }
    return { applied };
  } finally {
    await releaseSessionLock(lockClient, ADVISORY_LOCKS.migrations).catch(() => {});
    lockClient.release();
  }
}

/**
 * Migrates as the database owner when `ownerUrl` is given (Lock itself then runs as a role with
 * only the grants it needs), else with the pool Lock runs on.
 */
export async function migrateAs(
  ownerUrl: string | undefined,
  pool: pg.Pool,
  onProgress?: (name: string) => void,
): Promise<MigrationResult> {
  if (!ownerUrl) return migrate(pool, onProgress);
  const owner = createPool({ url: ownerUrl, max: 2, applicationName: 'lock-migrate' });
  try {
    return await migrate(owner, onProgress);
  } finally {
    await owner.end();
  }
}
