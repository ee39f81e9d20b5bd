import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { LOCK_CSP, renderView } from '../interactions/views.ts';
import { type Metrics, routeLabel } from '../metrics/metrics.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../store/unavailable.ts';
import type { Logger } from './logger.ts';
import { routedPath } from './routed-path.ts';

export interface LockState {
  requestId: string;
  log: Logger;
  /** What oidc-provider reported as its server error for this request, if anything. */
  serverError?: unknown;
}

/** `ctx.state` of every request: its id, and a logger bound to it, built on first use. */
class RequestState implements LockState {
  readonly requestId: string;
  serverError?: unknown;
  readonly #base: Logger;
  #log: Logger | undefined;

  constructor(requestId: string, base: Logger) {
    this.requestId = requestId;
    this.#base = base;
  }

  // Most requests (tokens, JWKS) never log more than their request line.
  get log(): Logger {
    this.#log ??= this.#base.child({ requestId: this.requestId });
    return this.#log;
  }
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RequestEdgeOptions {
  log: Logger;
  metrics: Metrics;
  /** Adds Strict-Transport-Security. */
  httpsIssuer: boolean;
  /** The rate limits: false when the request was answered 429 (see RateLimiter.admit). */
  admit: (ctx: Koa.Context, routedPath: string) => boolean | Promise<boolean>;
}

/**
 * What every request passes through, on Lock's own routes and on oidc-provider's alike: an id
 * (the caller's X-Request-Id when sane), security headers, rate limits, a database outage answered
 * 503, and on the way out one log line and the duration metric. One middleware of plain steps,
 * not one per concern: it runs on the token path's every request.
 */
export function requestEdge({
  log,
  metrics,
  httpsIssuer,
  admit,
}: RequestEdgeOptions): Koa.Middleware<LockState> {
  const securityHeaders = Object.entries({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    ...(httpsIssuer && { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' }),
  });
  return async (ctx, next) => {
    const started = performance.now();
    const routed = routedPath(ctx.path);
    const offered = ctx.get('x-request-id');
    const state = new RequestState(REQUEST_ID.test(offered) ? offered : randomUUID(), log);
    ctx.state = state;
    ctx.set('X-Request-Id', state.requestId);
    for (const [name, value] of securityHeaders) ctx.set(name, value);
    try {
      let admitted = admit(ctx as unknown as Koa.Context, routed);
      if (typeof admitted !== 'boolean') admitted = await admitted;
      if (!admitted) return;
      await next();
      if (ctx.status === 500 && isDatabaseUnavailable(state.serverError)) answerDatabaseOutage(ctx);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      answerDatabaseOutage(ctx);
    } finally {
      // The path only: query strings carry codes and tokens.
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const seconds = (performance.now() - started) / 1000;
      metrics.observeRequest(routeLabel(routed), ctx.method, status, seconds);
      if (log.isLevelEnabled('info'))
        state.log.info(
          { method: ctx.method, path: ctx.path, status, ms: Math.round(seconds * 10_000) / 10 },
          'request',
        );
    }
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
        answerDatabaseOutage(ctx);
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

/**
 * 503 with Retry-After: the request may succeed in a moment, and nothing was half done. Also for
 * oidc-provider's requests, which it answers 500 server_error when a database call failed.
 */
function answerDatabaseOutage(ctx: Koa.ParameterizedContext<LockState>): void {
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
