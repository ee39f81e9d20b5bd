/** Errors that mean PostgreSQL cannot be reached right now (down, restarting, refusing), not a bug. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08006', // connection_failure
]);

export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message, syscall } = (error ?? {}) as { code?: string; message?: string; syscall?: string };
  if (code !== undefined && UNAVAILABLE_CODES.has(code)) return true;
  // The embedded cluster's Unix socket is gone while it is stopped.
  if (code === 'ENOENT' && syscall === 'connect') return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
    message ?? '',
  );
}

/** Seconds a client should wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * PostgreSQL aborted the statement to break a conflict between transactions: a deadlock, a
 * serialization failure, a lock it could not take. Nothing of the aborted transaction was done,
 * and the same request may well succeed a moment later. Lock takes shared rows in one order so
 * that this should not happen (docs/operations.md); when it does, the caller is told to retry,
 * not that Lock failed.
 */
const CONFLICT_CODES = new Set(['40P01', '40001', '55P03']);

/** A database failure worth retrying shortly: what to tell the caller, and after how many seconds. */
export function retryableDatabaseFailure(
  error: unknown,
): { message: string; retryAfterSeconds: number; conflict: boolean } | undefined {
  if (isDatabaseUnavailable(error))
    return {
      message: 'Lock cannot reach its database right now. Please try again in a moment.',
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
      conflict: false,
    };
  if (CONFLICT_CODES.has((error as { code?: string } | null)?.code ?? ''))
    return {
      message: 'Lock is busy right now. Please try again in a moment.',
      retryAfterSeconds: 1,
      conflict: true,
    };
  return undefined;
}
