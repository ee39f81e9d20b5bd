import pg from 'pg';
import { LockError } from '../observability/errors.ts';

export type Pool = pg.Pool;
export type Queryable = pg.Pool | pg.PoolClient;

export interface PoolOptions {
  url: string;
  max?: number;
  applicationName?: string;
}

/** Every query is bounded: a database that stops answering costs a request seconds, never forever. */
export function createPool({ url, max = 10, applicationName = 'lock' }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 10_000,
    statement_timeout: 10_000,
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** The one way to open a transaction: commits when `fn` resolves, rolls back when it throws. */
export async function tx<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** A unique name taken already (23505): a 409 unless a caller names the field at fault. */
export class ConflictError extends LockError {
  override name = 'ConflictError';
  constructor(message: string) {
    super('conflict', message);
  }
}

/** PostgreSQL's unique_violation, the one database error that is the caller's fault. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

/** Whether the database answers a trivial query within `timeoutMs` (the readiness probe). */
export async function databaseAnswers(pool: pg.Pool, timeoutMs: number): Promise<boolean> {
  try {
    await Promise.race([
      pool.query('SELECT 1'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}
