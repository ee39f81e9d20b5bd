// The one error mapper at the edge: a LockError (src/observability/errors.ts) becomes RFC 9457
// problem details under the admin API, the error page for a browser, and OAuth's
// `error`/`error_description` JSON for everything else (RFC 6749 §5.2, RFC 6750 §3.1).
import type Koa from 'koa';
import { ADMIN_API_PREFIX } from '../admin/api/route.ts';
import { type PageContext, sendErrorPage } from '../interactions/error-page.ts';
import { ERROR_CODES, type LockError } from '../observability/errors.ts';

/** RFC 9457 `type` of a code: a URN, documented in docs/admin-api.md ("Errors"). */
export const problemType = (code: string) => `urn:lock:problem:${code}`;

const ADMIN_API = new RegExp(`^${ADMIN_API_PREFIX}(?:/|$)`);

/**
 * What the error page says: keys of the message catalogue (views/locales/en.json); by default
 * chosen by the error's code and status. The error's own message is developer text: the page shows
 * it (when it may be shown) only in its folded developer detail.
 */
export interface PageWording {
  title?: string;
  message?: string;
}

/** The page's plain words for an error, by its code (catalogue `errors.<kind>`). */
function pageKind(error: LockError): string {
  if (error.code === 'temporarily_unavailable') return 'errors.temporarily_unavailable';
  if (error.status >= 500) return 'errors.server_error';
  if (error.code === 'not_found') return 'errors.not_found';
  if (error.code === 'invalid_request' || error.code === 'payload_too_large')
    return 'errors.malformed_request';
  return 'errors.generic';
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
  } else if (ctx.accepts('json', 'html') === 'html') {
    const kind = pageKind(error);
    sendErrorPage(ctx as unknown as PageContext, {
      title: wording.title ?? `${kind}.title`,
      message: wording.message ?? `${kind}.message`,
      developer: { error: error.code, ...(error.expose && { description: error.message }) },
    });
  } else ctx.body = { error: error.code, error_description: detail };
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
