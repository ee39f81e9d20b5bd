// Lock's one error type, on the ground floor so that every layer can throw it. The edge
// (src/http/error-response.ts) turns it into the answer: problem details for the admin API, OAuth
// `error`/`error_description` JSON for everything else, the error page for a browser. Outcomes that
// are not failures (a wrong password, an unknown user) stay values: they are not thrown.

/**
 * The wire code of an error: OAuth's `error` where the protocols define one (RFC 6749 §5.2,
 * RFC 6750 §3.1), the last segment of the problem `type` for the admin API.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_input'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'precondition_required'
  | 'connection_test_failed'
  | 'server_error'
  | 'temporarily_unavailable';

/** Each code's status, unless the error says otherwise, and its RFC 9457 `title`. */
export const ERROR_CODES: Record<ErrorCode, { status: number; title: string }> = {
  invalid_request: { status: 400, title: 'Malformed request' },
  invalid_input: { status: 422, title: 'Invalid input' },
  invalid_token: { status: 401, title: 'Access token not valid' },
  insufficient_scope: { status: 403, title: 'Not allowed for this token' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflicts with the present state' },
  precondition_failed: { status: 412, title: 'Changed by someone else' },
  payload_too_large: { status: 413, title: 'Body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported body type' },
  precondition_required: { status: 428, title: 'If-Match required' },
  connection_test_failed: { status: 422, title: 'Connection test failed' },
  server_error: { status: 500, title: 'Internal server error' },
  temporarily_unavailable: { status: 503, title: 'Temporarily unavailable' },
};

/** What is wrong with one input field: `path` as in the declarative file (`config.userSearch.baseDN`). */
export interface Problem {
  path: string;
  message: string;
}

export interface LockErrorOptions {
  /** Defaults to the code's (ERROR_CODES). */
  status?: number;
  /** Whether the message may be shown to the caller: by default, for every 4xx and never for a 5xx. */
  expose?: boolean;
  /** The fields at fault, each named. */
  problems?: readonly Problem[];
  /** Further members of the answer (RFC 9457 extension members), e.g. a connection test's report. */
  extensions?: Readonly<Record<string, unknown>>;
  /** Response headers the answer needs: WWW-Authenticate, Retry-After, Allow. */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

/** A request Lock cannot do as asked, with the code, status and message its answer carries. */
export class LockError extends Error {
  override name = 'LockError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly expose: boolean;
  readonly problems: readonly Problem[];
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, message: string, options: LockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.expose = options.expose ?? this.status < 500;
    this.problems = options.problems ?? [];
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

export const notFound = (message: string) => new LockError('not_found', message);

/** The change cannot be made in the entity's present state (exists, file-owned, built in, still referenced). */
export const conflict = (message: string) => new LockError('conflict', message);

/** If-Match named a version that is no longer current: someone else changed the entity meanwhile. */
export const preconditionFailed = (message: string) => new LockError('precondition_failed', message);

/**
 * An input that fails its schema: every problem, each naming its field. 422 for a body; 400 for a
 * malformed query string.
 */
export function invalidInput(problems: readonly Problem[], status: 400 | 422 = 422): LockError {
  const message = problems.map((problem) => `${problem.path || '(body)'}: ${problem.message}`).join('; ');
  return new LockError(status === 400 ? 'invalid_request' : 'invalid_input', message, {
    status,
    problems,
    // The admin API's `error` member for a schema failure, as before problem details.
    extensions: { error: 'the request is invalid' },
  });
}

/** One input field at fault: 422, or 409 when it names something that exists already. */
export function fieldError(field: string, message: string, status: 409 | 422 = 422): LockError {
  return new LockError(status === 409 ? 'conflict' : 'invalid_input', `${field}: ${message}`, {
    status,
    problems: [{ path: field, message }],
  });
}

/** The code a bare HTTP status stands for (Koa's `ctx.throw`, oidc-provider's errors). */
export function codeForStatus(status: number): ErrorCode {
  if (status >= 500) return status === 503 ? 'temporarily_unavailable' : 'server_error';
  return STATUS_CODES[status] ?? 'invalid_request';
}

// The generic code of each status; the OAuth ones (invalid_token, insufficient_scope) are chosen, not guessed.
const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'invalid_input',
  428: 'precondition_required',
};

/**
 * Any thrown value as a LockError: ours as they are; an error with a 4xx `status` (Koa's
 * `ctx.throw`) keeps its status and message unless it says `expose: false`; anything else is a
 * 500 that shows nothing of itself.
 */
export function asLockError(error: unknown): LockError {
  if (error instanceof LockError) return error;
  const { status, expose, message, headers } = (error ?? {}) as {
    status?: unknown;
    expose?: unknown;
    message?: unknown;
    headers?: unknown;
  };
  if (typeof status === 'number' && status >= 400 && status < 500 && expose !== false)
    return new LockError(codeForStatus(status), String(message), {
      status,
      ...(headers !== null && typeof headers === 'object' && { headers: headers as Record<string, string> }),
      cause: error,
    });
  return new LockError('server_error', 'internal server error', { cause: error });
}
