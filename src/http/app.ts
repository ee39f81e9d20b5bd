import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import type pg from 'pg';
import type { AccountService } from '../account/account-service.ts';
import { ADMIN_API_PREFIX } from '../admin/api/route.ts';
import { adminConsole } from '../admin/console.ts';
import { accountRoutes, DEFAULT_SECTIONS } from '../interactions/account/account-routes.ts';
import { emailSection } from '../interactions/account/email-section.ts';
import { withPasskeysSection } from '../interactions/account/passkeys-section.ts';
import type { AccountSection } from '../interactions/account/section.ts';
import { serveAssets } from '../interactions/assets.ts';
import { emailRoutes } from '../interactions/email-routes.ts';
import { landingPage } from '../interactions/landing-page.ts';
import { interactionRoutes } from '../interactions/routes.ts';
import { idpInitiatedLogin, ssoRoutes } from '../interactions/sso-routes.ts';
import type { PasskeyRegistration } from '../login/passkey-registration.ts';
import type { PasskeySignIn } from '../login/passkeys.ts';
import { PASSWORD_RESET_PATH, type PasswordReset } from '../login/password-reset.ts';
import type { PasswordSignIn } from '../login/password-sign-in.ts';
import type { SecondFactor } from '../login/second-factor.ts';
import type { Mail } from '../mail/mail.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { OidcRuntime } from '../oidc/runtime.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { databaseAnswers } from '../store/pool.ts';
import { bearerToken } from '../verify/bearer.ts';
import { errorHandler, type LockState } from './middleware.ts';
import { onFirstRequest } from './on-first-request.ts';

/** Paths (and everything below them) that Lock's own app serves; oidc-provider serves the rest. */
const LOCK_PATHS = [
  '/healthz',
  '/readyz',
  '/metrics',
  '/jwks',
  '/assets',
  '/interaction',
  '/saml',
  '/sso',
  '/admin',
  '/reset',
  '/verify-email',
  '/account',
];
/** One of LOCK_PATHS, exactly or followed by `/` or `?`: matched once per request, with no allocation. */
const LOCK_PATH = new RegExp(`^(?:${LOCK_PATHS.join('|')})(?:[/?]|$)`);
/** The landing page: `/` exactly (a query aside); every other path not above is oidc-provider's. */
const LANDING_PATH = /^\/(?:\?|$)/;

/** What the composition root (src/app.ts) built and hands over: this module only assembles routes. */
export interface HttpOptions {
  issuer: string;
  pool: pg.Pool;
  runtime: OidcRuntime;
  log: Logger;
  jwksMaxAge: number;
  trustProxy: boolean;
  /** Seals secrets at rest under the KEK (the admin API's). */
  box: SecretBox;
  /** Keys the interaction forms' CSRF tokens (derived from the KEK). */
  csrfKey: Buffer;
  /** The sign-in library (src/login/) the interaction routes call. */
  passwordSignIn: PasswordSignIn;
  secondFactor: SecondFactor;
  /** Passkey sign-in (first and second factor). */
  passkeys?: PasskeySignIn;
  /** A person's own passkeys: the "Passkeys" section of /account. */
  passkeyRegistration?: PasskeyRegistration;
  /** The account page's library (src/account/): /account is served when it is given. */
  account?: AccountService;
  now: () => Date;
  /** Request id, log, metrics, security headers, rate limits: shared with oidc-provider's requests. */
  crossCutting: Koa.Middleware<LockState>[];
  metrics: Metrics;
  /** When set, /metrics wants `Authorization: Bearer <this>`; unset, it answers loopback only. */
  metricsToken?: string | undefined;
  /** Mail (docs/email.md): with it, the password-reset and email-verification pages; unset, they answer 404. */
  mail?: { mail: Mail; passwordReset: PasswordReset } | undefined;
  /** LOCK_DOCS_URL: the landing page's documentation link. */
  docsUrl?: string | undefined;
}

/** Lock's HTTP request listener: its own routes, and oidc-provider for the protocol endpoints. */
export function createHttpApp(options: HttpOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const app = new Koa<LockState>();
  app.proxy = options.trustProxy;
  // One proxy hop: the client is the address the nearest proxy saw (the last X-Forwarded-For
  // entry), never one the client wrote into the header itself.
  app.maxIpsCount = 1;
  const router = new Router<LockState>();

  router.get('/', landingPage(options.issuer, options.docsUrl));

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const checks = { database: await databaseReachable(options.pool), keys: options.runtime.ready };
    const ready = checks.database && checks.keys;
    ctx.status = ready ? 200 : 503;
    if (!ready) ctx.set('Retry-After', '5');
    ctx.body = { status: ready ? 'ready' : 'not ready', checks };
  });

  router.get('/metrics', async (ctx) => {
    if (options.metricsToken !== undefined) {
      if (!bearerMatches(ctx.get('authorization'), options.metricsToken)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        return;
      }
    } else if (!fromThisHost(ctx)) {
      ctx.status = 403;
      ctx.body = {
        error: 'forbidden',
        error_description: 'without LOCK_METRICS_TOKEN, /metrics answers only on this host (loopback)',
      };
      return;
    }
    try {
      ctx.body = await options.metrics.exposition();
      ctx.type = options.metrics.registry.contentType;
    } catch (error) {
      ctx.state.log.warn({ err: error }, 'metrics unavailable');
      ctx.status = 503;
      ctx.body = { error: 'metrics_unavailable', error_description: 'the metrics could not be gathered' };
    }
  });

  // Served here rather than by oidc-provider: public members only, with a cache lifetime that the
  // key rotation schedule is built around.
  router.get('/jwks', (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${options.jwksMaxAge}`);
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/jwk-set+json';
    ctx.body = options.runtime.state.publicJwks;
  });

  for (const middleware of options.crossCutting) app.use(middleware);
  app.use(errorHandler());
  app.use(serveAssets());
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(
    onFirstRequest(ADMIN_API_PREFIX, async () => {
      const { adminApiRouter } = await import('../admin/api/router.ts');
      return adminApiRouter(options).routes() as unknown as Koa.Middleware<LockState>;
    }),
  );
  app.use(adminConsole());
  const interactions = interactionRoutes({
    provider: () => options.runtime.state.provider,
    connectors: () => options.runtime.state.connectors,
    clientName: (clientId) => options.runtime.state.catalog.clients.get(clientId)?.name ?? clientId,
    // A client the catalog does not know registered itself (docs/mcp.md): its own name, marked as such.
    registeredClientName: async (clientId) => {
      if (options.runtime.state.catalog.clients.has(clientId)) return undefined;
      const client = await options.runtime.state.provider.Client.find(clientId);
      return client && (client.clientName ?? '');
    },
    csrfKey: options.csrfKey,
    passwordSignIn: options.passwordSignIn,
    secondFactor: options.secondFactor,
    ...(options.passkeys && { passkeys: options.passkeys }),
    ...(options.mail && { passwordResetHref: PASSWORD_RESET_PATH }),
    pendingLogin: idpInitiatedLogin({
      pool: options.pool,
      connectors: () => options.runtime.state.connectors,
    }),
  });
  const sso = ssoRoutes({
    pool: options.pool,
    provider: () => options.runtime.state.provider,
    connectors: () => options.runtime.state.connectors,
    client: (clientId) => options.runtime.state.catalog.clients.get(clientId),
    now: options.now,
  });
  app.use(sso.routes());
  app.use(sso.allowedMethods());
  app.use(interactions.routes());
  app.use(interactions.allowedMethods());
  if (options.mail) {
    const email = emailRoutes(options.mail);
    app.use(email.routes());
    app.use(email.allowedMethods());
  }
  if (options.account) {
    // With mail on, the person's email address and its confirmation (docs/email.md); passkeys (docs/passkeys.md).
    let accountSections: AccountSection[] = [...DEFAULT_SECTIONS];
    if (options.mail) accountSections = withEmailSection(accountSections, emailSection(options.mail.mail));
    if (options.passkeyRegistration)
      accountSections = withPasskeysSection(accountSections, options.passkeyRegistration);
    const account = accountRoutes({
      issuer: options.issuer,
      service: options.account,
      csrfKey: options.csrfKey,
      sections: accountSections,
    });
    app.use(account.routes());
    app.use(account.allowedMethods());
  }
  const lockHandler = app.callback();
  const pinToIssuer = issuerPinning(options.issuer, options.trustProxy);
  // One Koa context per request: Lock's own paths go to Lock's app, everything else straight to
  // the current oidc-provider (which runs the same cross-cutting middleware itself).
  return (req: IncomingMessage, res: ServerResponse) => {
    pinToIssuer(req);
    const path = req.url ?? '/';
    if (LOCK_PATH.test(path) || LANDING_PATH.test(path)) return lockHandler(req, res);
    return options.runtime.state.handler(req, res);
  };
}

/**
 * Every URL Lock writes (discovery, redirects, the logout form's action) is built from the
 * request's host and protocol, by oidc-provider and by Koa: set them from LOCK_ISSUER, so that a
 * forged Host or X-Forwarded-Host (or an absolute request target) cannot put another origin into
 * a discovery document a cache keeps, or into a form. Behind a proxy (LOCK_TRUST_PROXY) the
 * protocol too comes from the issuer; without one, Koa reads it from the connection.
 */
function issuerPinning(issuer: string, trustProxy: boolean): (req: IncomingMessage) => void {
  const { host, protocol } = new URL(issuer);
  const scheme = protocol.slice(0, -1);
  return (req) => {
    req.headers.host = host;
    if (trustProxy) {
      req.headers['x-forwarded-host'] = host;
      req.headers['x-forwarded-proto'] = scheme;
    } else if (req.headers['x-forwarded-host'] !== undefined) delete req.headers['x-forwarded-host']; // rare: `delete` slows the object
    // `GET http://evil.example/auth HTTP/1.1`: Koa would take the origin from the target itself.
    const target = req.url ?? '/';
    if (target.charCodeAt(0) !== 0x2f) {
      try {
        const url = new URL(target);
        req.url = `${url.pathname}${url.search}`;
      } catch {
        req.url = '/';
      }
    }
  };
}

/**
 * A request made on this host: from a loopback address and not relayed by a proxy (a proxy on the
 * same host would make every client look local; it says so with X-Forwarded-For or Forwarded).
 */
function fromThisHost(ctx: Koa.Context): boolean {
  const address = ctx.req.socket.remoteAddress ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  return loopback && ctx.get('x-forwarded-for') === '' && ctx.get('forwarded') === '';
}

function bearerMatches(header: string, expected: string): boolean {
  let token: string;
  try {
    token = bearerToken(header);
  } catch {
    return false;
  }
  const presented = Buffer.from(token);
  const wanted = Buffer.from(expected);
  return presented.length === wanted.length && timingSafeEqual(presented, wanted);
}

function databaseReachable(pool: pg.Pool): Promise<boolean> {
  return databaseAnswers(pool, 2_000);
}

/** The Email section right after the password's (or last, if there is none). */
function withEmailSection(sections: readonly AccountSection[], email: AccountSection): AccountSection[] {
  const at = sections.findIndex((section) => section.id === 'password');
  return at < 0 ? [...sections, email] : [...sections.slice(0, at + 1), email, ...sections.slice(at + 1)];
}
