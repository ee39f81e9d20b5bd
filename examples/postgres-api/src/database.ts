import pg from 'pg';
import { fromPostgresError } from './errors.ts';

/** The only roles this API switches to; a token naming another role gets a 403 before any SQL. */
export const DATABASE_ROLES = ['app_admin', 'app_readwrite', 'app_readonly'] as const;
export type DatabaseRole = (typeof DATABASE_ROLES)[number];

export const isDatabaseRole = (value: unknown): value is DatabaseRole =>
  typeof value === 'string' && (DATABASE_ROLES as readonly string[]).includes(value);

/** A double-quoted SQL identifier; only ever applied to DATABASE_ROLES, never to a raw claim. */
const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Who the transaction runs as: the role from the token, and the claims its policies read. */
export interface Caller {
  role: DatabaseRole;
  claims: Record<string, unknown>;
}

/** Connections log in as api_authenticator (NOINHERIT): without SET ROLE they may do nothing. */
export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    application_name: 'postgres-api-example',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: 10_000,
  });
  // An idle connection that breaks (database restart) must not end the process.
  pool.on('error', () => {});
  return pool;
}

/**
 * Runs `fn` in one transaction as the caller's role, with the caller's claims visible to
 * row-level security as `current_setting('request.jwt.claims', true)`. Both settings are LOCAL:
 * they end with the transaction, so a pooled connection never carries one caller's role or
 * claims into the next request. A refusal by PostgreSQL becomes an ApiError (403, 409, 422).
 */
export async function asCaller<T>(
  pool: pg.Pool,
  caller: Caller,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  if (!isDatabaseRole(caller.role)) throw new Error(`not a database role of this API: ${caller.role}`);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(`BEGIN; SET LOCAL ROLE ${quoteIdentifier(caller.role)}`);
    await client.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify(caller.claims)]);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    const refusal = fromPostgresError(error, caller.role);
    if (refusal) throw refusal;
    throw error;
  } finally {
    // A connection that could not roll back is closed rather than handed to the next caller.
    client.release(broken);
  }
}
