import pg from 'pg';

/** An answer the API gives on purpose: status, a stable error code, a message a caller can act on. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    extra: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = extra.details;
    this.headers = extra.headers ?? {};
  }
}

/**
 * PostgreSQL's refusals become the caller's errors: the database, not this API, decides what a
 * role may do, so a denied privilege or a row-level security check is a 403 that says so.
 * Anything else is this API's problem (undefined: the caller answers 500).
 */
export function fromPostgresError(error: unknown, role: string): ApiError | undefined {
  if (!(error instanceof pg.DatabaseError) || error.code === undefined) return undefined;
  const postgres = { code: error.code, message: error.message };
  // 42501 insufficient_privilege: a missing grant, or a row that fails a policy's WITH CHECK.
  if (error.code === '42501')
    return new ApiError(403, 'forbidden', `PostgreSQL refused this for role ${role}: ${error.message}`, {
      details: { postgres },
    });
  if (error.code === '23505')
    return new ApiError(409, 'conflict', `already exists: ${error.message}`, { details: { postgres } });
  // Integrity and data exceptions: the input passed the API's schema but not the table's constraints.
  if (error.code.startsWith('23') || error.code.startsWith('22'))
    return new ApiError(422, 'unprocessable', error.message, { details: { postgres } });
  return undefined;
}
