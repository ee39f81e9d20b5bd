import { randomUUID } from 'node:crypto';
import type Koa from 'koa';
import { asLockError, LockError, notFound } from '../observability/errors.ts';
import { accessLogger, type Logger } from '../observability/logger.ts';
import { type Metrics, routeLabel } from '../observability/metrics.ts';
import {
  CLIENT_AUTH_PATHS,
  type ClientAuthGuard,
  type ClientAuthTicket,
  claimedClient,
} from '../security/client-auth-guard.ts';
import { retryableDatabaseFailure } from '../store/unavailable.ts';
import type { LockState } from '../web/lock-state.ts';
import { sendError } from './error-response.ts';
import { EdgeRequest, MAX_HELD_BODY } from './held-body.ts';
import { isRefusedValue, malformedJson, malformedParameters, malformedPath } from './malformed-input.ts';
import { routedPath } from './routed-path.ts';

export type { LockState };

/** `ctx.state` of every request: its id, and a logger bound to it, built on first use. */
class RequestState implements LockState {
  readonly requestId: string;
  serverError?: unknown;
  heldBody?: Buffer;
  heldForm?: boolean;
  claimedClient?: string | null;
  routedPath?: string;
  defaultLocale?: string;
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
  /** Failed client authentication's lockout, on the endpoints that authenticate clients. */
  clientAuth?: ClientAuthGuard;
  /** The rate limits: false when the request was answered 429 (see RateLimiter.admit). */
  admit: (ctx: Koa.Context, routedPath: string) => boolean | Promise<boolean>;
  /** LOCK_DEFAULT_LOCALE, for the pages (ctx.state.defaultLocale). */
  defaultLocale?: string;
}

/**
 * What every request passes through, on Lock's own routes and on oidc-provider's alike: an id
 * (the caller's X-Request-Id when sane), security headers, malformed input refused (path, query,
 * form and JSON body), rate limits, the failed-client-authentication lockout, a database outage
 * answered 503, and on the way out one log line and the duration metric. One middleware of plain steps,
 * not one per concern: it runs on the token path's every request.
 */
export function requestEdge({
  log,
  metrics,
  httpsIssuer,
  admit,
  clientAuth,
  defaultLocale,
}: RequestEdgeOptions): Koa.Middleware<LockState> {
  const securityHeaders = Object.entries({
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    ...(httpsIssuer && { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' }),
  });
  const writeAccessLine = accessLogger(log);
  return async (ctx, next) => {
    const started = performance.now();
    const routed = routedPath(ctx.path);
    const offered = ctx.get('x-request-id');
    const state = new RequestState(REQUEST_ID.test(offered) ? offered : randomUUID(), log);
    state.routedPath = routed;
    if (defaultLocale !== undefined) state.defaultLocale = defaultLocale;
    ctx.state = state;
    ctx.set('X-Request-Id', state.requestId);
    for (const [name, value] of securityHeaders) ctx.set(name, value);
    let clientAuthTicket: ClientAuthTicket | undefined;
    try {
      const malformed = await inspectInput(ctx, state);
      if (ctx.req instanceof EdgeRequest) ctx.req.releaseBody(); // for the route that reads it
      if (malformed) return refuse(ctx, malformed.status, malformed.message);
      let admitted = admit(ctx as unknown as Koa.Context, routed);
      if (typeof admitted !== 'boolean') admitted = await admitted;
      if (!admitted) return;
      if (clientAuth && ctx.method === 'POST' && CLIENT_AUTH_PATHS.has(routed)) {
        const admission = clientAuth.admit(claimedClient(ctx), ctx.ip);
        if (!admission.admitted) return refuseClientAuth(ctx, admission.retryAfterSeconds);
        clientAuthTicket = admission.ticket;
      }
      await next();
      const retryable = ctx.status === 500 ? retryableDatabaseFailure(state.serverError) : undefined;
      if (retryable) answerRetryLater(ctx, retryable, state.serverError);
      else if (ctx.status === 500 && isRefusedValue(state.serverError))
        refuseStoredValue(ctx, state.serverError);
    } catch (error) {
      const retryable = retryableDatabaseFailure(error);
      if (!retryable) throw error;
      answerRetryLater(ctx, retryable, error);
    } finally {
      if (clientAuthTicket && clientAuth) {
        const settled = clientAuth.settle(clientAuthTicket, clientAuthOutcome(ctx));
        if (settled)
          await settled.catch((error: unknown) =>
            state.log.warn({ err: error }, 'counting a client authentication failed'),
          );
      }
      // The path only: query strings carry codes and tokens.
      const status = ctx.respond === false ? ctx.res.statusCode : ctx.status;
      const seconds = (performance.now() - started) / 1000;
      metrics.observeRequest(routeLabel(routed), ctx.method, status, seconds);
      writeAccessLine({
        requestId: state.requestId,
        method: ctx.method,
        path: withoutLinkToken(ctx.path),
        status,
        ms: Math.round(seconds * 10_000) / 10,
      });
    }
  };
}

/** A mailed link's token is in its path (docs/email.md): the log writes the path without it. */
const LINK_TOKEN_PATH = /^(\/reset|\/verify-email)\/[^/]+/i;
const withoutLinkToken = (path: string) => path.replace(LINK_TOKEN_PATH, '$1/…');

/**
 * Path, query string and a form or JSON body, read before any route or query: a control character
 * or an unpaired surrogate is answered 400 naming the field (PostgreSQL would refuse the value with
 * a 500 once a query carried it), a body past the largest any route takes 413.
 */
async function inspectInput(
  ctx: Koa.ParameterizedContext<LockState>,
  state: LockState,
): Promise<{ status: number; message: string } | undefined> {
  const inPath = malformedPath(ctx.path);
  if (inPath) return { status: 400, message: inPath };
  const inQuery =
    ctx.querystring === '' ? undefined : malformedParameters(ctx.querystring, 'query parameter');
  if (inQuery) return { status: 400, message: inQuery };
  if (!(ctx.req instanceof EdgeRequest)) return undefined;
  const held = await ctx.req.heldBody();
  if (held.kind === 'too-large')
    return { status: 413, message: `the body is larger than ${MAX_HELD_BODY} bytes` };
  if (held.kind === 'aborted') return { status: 400, message: 'the request body did not arrive' };
  if (held.kind === 'none') return undefined;
  state.heldBody = held.body;
  state.heldForm = held.type === 'form';
  const text = held.body.toString('utf8');
  const inBody = held.type === 'json' ? malformedJson(text) : malformedParameters(text, 'form field');
  return inBody ? { status: 400, message: inBody } : undefined;
}

/** Whether oidc-provider authenticated the client: invalid_client (401) is a failure, 2xx a success. */
function clientAuthOutcome(ctx: Koa.ParameterizedContext<LockState>): 'failed' | 'authenticated' | 'other' {
  if (ctx.status === 401 && (ctx.body as { error?: unknown } | undefined)?.error === 'invalid_client')
    return 'failed';
  return ctx.status >= 200 && ctx.status < 300 ? 'authenticated' : 'other';
}

/** 429 before authenticating a client that failed too often from this address. */
function refuseClientAuth(ctx: Koa.ParameterizedContext<LockState>, retryAfterSeconds: number): void {
  ctx.status = 429;
  ctx.set('Retry-After', String(retryAfterSeconds));
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    error: 'too_many_requests',
    error_description: `too many failed client authentications from this address; retry after ${retryAfterSeconds} s`,
  };
}

/** A value that reached a query after all (an upstream attribute, say): 400, not 500. */
function refuseStoredValue(ctx: Koa.ParameterizedContext<LockState>, error: unknown): void {
  ctx.state.log.warn({ err: error }, 'a request value was refused by PostgreSQL');
  refuse(ctx, 400, 'the request carries a value Lock cannot store (a control character, or one too long)');
}

/** A 4xx of the edge: the error page for a browser, OAuth-style JSON (problem details under the admin API). */
function refuse(ctx: Koa.ParameterizedContext<LockState>, status: number, message: string): void {
  sendError(ctx, new LockError('invalid_request', message, { status }));
}

/**
 * Our own routes' errors, through the one mapper (src/http/error-response.ts), and their 404s (a
 * path nothing answered). An unexpected error is logged and answered 500 without detail.
 */
export function errorHandler(): Koa.Middleware<LockState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null && ctx.respond !== false)
        sendError(ctx, notFound(`nothing at ${ctx.path}`));
    } catch (error) {
      const retryable = retryableDatabaseFailure(error);
      if (retryable) {
        answerRetryLater(ctx, retryable, error);
        return;
      }
      if (isRefusedValue(error)) {
        refuseStoredValue(ctx, error);
        return;
      }
      const refused = asLockError(error);
      if (refused.status >= 500) ctx.state.log.error({ err: error }, 'request failed');
      sendError(ctx, refused);
    }
  };
}

/**
 * 503 with Retry-After: the database is away, or aborted the request's statement to break a
 * conflict; the request may succeed in a moment. Also for oidc-provider's requests, which it
 * answers 500 server_error when a database call failed.
 */
function answerRetryLater(
  ctx: Koa.ParameterizedContext<LockState>,
  { message, retryAfterSeconds, conflict }: { message: string; retryAfterSeconds: number; conflict: boolean },
  error: unknown,
): void {
  // A conflict is Lock's to look into (two statements taking shared rows in different orders).
  if (conflict) {
    const { code, message: detail } = error as { code?: string; message?: string };
    ctx.state.log?.warn(
      { err: { code, message: detail } },
      'a database conflict aborted the request: answered 503',
    );
  }
  sendError(
    ctx,
    new LockError('temporarily_unavailable', message, {
      expose: true,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  );
}
