import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import {
  createVerifier,
  type ProtectedResourceMetadata,
  protectedResourceMetadata,
  protectedResourceMetadataMiddleware,
  type Verifier,
} from 'lock/verify';
import type pg from 'pg';
import { type ApiState, requireCaller } from './auth.ts';
import { createPool } from './database.ts';
import { ApiError } from './errors.ts';
import { dataRoutes } from './routes.ts';

/** Where the API reports what went wrong on its side (pino's `error(object, message)` fits). */
export interface ApiLog {
  error(details: object, message: string): void;
}

export interface ApiDependencies {
  pool: pg.Pool;
  verifier: Verifier;
  /** The RFC 6750 realm in `WWW-Authenticate`: this API's resource id. */
  realm: string;
  /** RFC 9728: served at /.well-known/oauth-protected-resource and named in every 401's challenge. */
  resourceMetadata?: ProtectedResourceMetadata;
  /** The origin clients address this API at, e.g. https://db-api.example.com (DPoP's htu). */
  publicOrigin: () => string;
  log?: ApiLog;
}

/** Every error as JSON `{ error, message, … }`; the API's own failures as a bare 500. */
function errorResponses(log: ApiLog): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined)
        throw new ApiError(404, 'not_found', `no route ${ctx.method} ${ctx.path}`);
    } catch (error) {
      if (error instanceof ApiError) {
        // 503: the verifier could not fetch Lock's keys, which is worth an operator's attention.
        if (error.status >= 500) log.error({ err: error, path: ctx.path }, error.message);
        ctx.status = error.status;
        ctx.set(error.headers);
        ctx.body = { error: error.code, message: error.message, ...error.details };
        return;
      }
      const status = (error as { status?: unknown }).status;
      if (
        typeof status === 'number' &&
        status >= 400 &&
        status < 500 &&
        (error as { expose?: boolean }).expose
      ) {
        ctx.status = status;
        ctx.body = { error: 'invalid_request', message: (error as Error).message };
        return;
      }
      log.error({ err: error, method: ctx.method, path: ctx.path }, 'request failed');
      ctx.status = 500;
      ctx.body = { error: 'server_error', message: 'the API failed; see its log' };
    }
  };
}

export function createApi({
  pool,
  verifier,
  realm,
  resourceMetadata,
  publicOrigin,
  log = { error: () => {} },
}: ApiDependencies): Koa<ApiState> {
  const app = new Koa<ApiState>();
  app.use(async (ctx, next) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    await next();
  });
  app.use(errorResponses(log));

  const open = new Router<ApiState>();
  open.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  app.use(open.routes());
  // How a client with no token learns where to get one (an MCP client, docs/mcp.md).
  if (resourceMetadata) app.use(protectedResourceMetadataMiddleware(resourceMetadata));

  const data = dataRoutes(pool);
  app.use(requireCaller(verifier, realm, publicOrigin, resourceMetadata?.resource));
  app.use(data.routes());
  app.use(data.allowedMethods({ throw: true }));
  return app;
}

export interface ApiOptions {
  issuer: string;
  audience: string;
  databaseUrl: string;
  /** The scopes the API's resource offers in Lock (RFC 9728 `scopes_supported`). */
  scopes?: readonly string[];
  host?: string;
  port?: number;
  /** The origin clients address this API at; by default the address it listens on. */
  publicUrl?: string;
  /** Accept only DPoP-bound tokens with a proof (`Authorization: DPoP`), never a Bearer token. */
  requireDpop?: boolean;
  /** Seconds between DPoP nonce rotations; 0 (default) demands no nonce. */
  dpopNonceLifetime?: number;
  log?: ApiLog;
}

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Builds the API from its settings and listens; `close()` stops accepting and ends the pool. */
export async function startApi(options: ApiOptions): Promise<RunningApi> {
  const pool = createPool(options.databaseUrl);
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    roleClaim: 'role',
    requireDpop: options.requireDpop === true,
    dpopNonceLifetime: options.dpopNonceLifetime ?? 0,
  });
  let listening = '';
  const app = createApi({
    pool,
    verifier,
    realm: options.audience,
    resourceMetadata: protectedResourceMetadata({
      resource: options.audience,
      authorizationServers: [options.issuer],
      ...(options.scopes && { scopesSupported: options.scopes }),
    }),
    publicOrigin: () => options.publicUrl ?? listening,
    ...(options.log && { log: options.log }),
  });
  const server: Server = app.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  listening = `http://${host}:${port}`;
  return {
    url: `http://${host}:${port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.end();
    },
  };
}
