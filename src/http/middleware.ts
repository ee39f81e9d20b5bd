import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { LOCK_CSP, renderView } from '../interactions/views.ts';
import { type Metrics, routeLabel } from '../metrics/metrics.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../store/unavailable.ts';
import type { Logger } from './logger.ts';

export interface LockState {
  requestId: string;
  log: Logger;
  /** What oidc-provider reported as its server error for this request, if anything. */
  serverError?: unknown;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Tags each request with an id (the caller's X-Request-Id when sane), logs one line and times it. */
export function requestLog(log: Logger, metrics: Metrics): Koa.Middleware<LockState> {
  return async (ctx, next) => {
    const offered = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(offered) ? offered : randomUUID();
    ctx.state.requestId = requestId;
    // Built on first use: most requests (tokens, JWKS) never log more than the line below.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (child ??= log.child({ requestId })),
      configurable: true,
    });
    ctx.set('X-Request-Id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      // The path only: query strings carry codes and tokens.
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const seconds = (performance.now() - started) / 1000;
      metrics.observeRequest(routeLabel(ctx.path), ctx.method, status, seconds);
      if (log.isLevelEnabled('info'))
        ctx.state.log.info(
          {
            method: ctx.method,
            path: ctx.path,
            status,
            ms: Math.round(seconds * 10_000) / 10,
          },
          'request',
        );
    }
  };
}

export function securityHeaders(httpsIssuer: boolean): Koa.Middleware {
  return async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    if (httpsIssuer) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}

/**
 * Our own routes' errors: an HTML page for a browser, JSON for everything else. An unexpected
 * error is logged and answered 500 without detail.
 */
export function errorHandler(): Koa.Middleware<LockState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        respondDatabaseUnavailable(ctx);
        return;
      }
      const status = (error as { status?: number }).status ?? 500;
      const expose = status < 500 && (error as { expose?: boolean }).expose !== false;
      if (status >= 500) ctx.state.log.error({ err: error }, 'request failed');
      const message = expose ? (error as Error).message : 'internal server error';
      ctx.status = status;
      if (ctx.accepts('json', 'html') === 'html') {
        ctx.set('Content-Security-Policy', LOCK_CSP);
        ctx.type = 'html';
        ctx.body = renderView('error', {
          title: status >= 500 ? 'Something went wrong' : 'This request could not be completed',
          message: expose ? message : 'Lock could not complete the request. Please try again in a moment.',
          requestId: ctx.state.requestId,
        });
      } else ctx.body = { error: message };
    }
  };
}

/** 503 with Retry-After: the request may succeed in a moment, and nothing was half done. */
function respondDatabaseUnavailable(ctx: Koa.ParameterizedContext<LockState>): void {
  ctx.status = 503;
  ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
  const message = 'Lock cannot reach its database right now. Please try again in a moment.';
  if (ctx.accepts('json', 'html') === 'html') {
    ctx.set('Content-Security-Policy', LOCK_CSP);
    ctx.type = 'html';
    ctx.body = renderView('error', {
      title: 'Temporarily unavailable',
      message,
      requestId: ctx.state.requestId,
    });
  } else ctx.body = { error: 'temporarily_unavailable', error_description: message };
}

/**
 * For oidc-provider's requests: it answers a failed database call with a 500 server_error; this
 * turns that into 503 + Retry-After when the cause was the database being away.
 */
export function databaseOutageAs503(): Koa.Middleware<LockState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      respondDatabaseUnavailable(ctx);
      return;
    }
    if (ctx.status === 500 && isDatabaseUnavailable(ctx.state.serverError)) {
      ctx.status = 503;
      ctx.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      if (ctx.type === 'application/json' || ctx.accepts('json', 'html') !== 'html')
        ctx.body = {
          error: 'temporarily_unavailable',
          error_description: 'the database is unavailable; retry shortly',
        };
    }
  };
}
