// The one error mapper at the edge: a LockError (src/observability/errors.ts) becomes RFC 9457
// problem details under the admin API, the error page for a browser, and OAuth's
// `error`/`error_description` JSON for everything else (RFC 6749 §5.2, RFC 6750 §3.1).
import type Koa from 'koa';
import { ADMIN_API_PREFIX } from '../admin/api/route.ts';
import { sendErrorPage } from '../interactions/error-page.ts';
import { ERROR_CODES, type LockError } from '../observability/errors.ts';

/** RFC 9457 `type` of a code: a URN, documented in docs/admin-api.md ("Errors"). */
export const problemType = (code: string) => `urn:lock:problem:${code}`;

const ADMIN_API = new RegExp(`^${ADMIN_API_PREFIX}(?:/|$)`);

/** What the page says besides the error's own message (defaults by status). */
export interface PageWording {
  title?: string;
  /** For an error that may not show its message (a 5xx). */
  hiddenMessage?: string;
}

/** Answers `error` in the form the request's caller reads: problem details, the error page, or OAuth JSON. */
export function sendError(
  ctx: Koa.ParameterizedContext<{ requestId: string }>,
  error: LockError,
  wording: PageWording = {},
): void {
  ctx.status = error.status;
  ctx.set('Cache-Control', 'no-store');
  for (const [name, value] of Object.entries(error.headers)) ctx.set(name, value);
  const detail = error.expose ? error.message : ERROR_CODES.server_error.title.toLowerCase();
  if (ADMIN_API.test(ctx.path)) {
    ctx.body = problemDetails(error, detail);
    ctx.type = 'application/problem+json';
  } else if (ctx.accepts('json', 'html') === 'html')
    sendErrorPage(ctx, {
      title:
        wording.title ??
        (error.status >= 500 ? 'Something went wrong' : 'This request could not be completed'),
      message: error.expose
        ? error.message
        : (wording.hiddenMessage ?? 'Lock could not complete the request. Please try again in a moment.'),
      requestId: ctx.state.requestId,
    });
  else ctx.body = { error: error.code, error_description: detail };
}

/**
 * RFC 9457 problem details. `error` (the message) and `problems` (each field at fault) are
 * extension members the admin API answered with before it spoke RFC 9457; clients may rely on them.
 */
export function problemDetails(error: LockError, detail: string): Record<string, unknown> {
  return {
    type: problemType(error.code),
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail,
    error: detail,
    ...(error.problems.length > 0 && { problems: error.problems }),
    ...error.extensions,
  };
}
