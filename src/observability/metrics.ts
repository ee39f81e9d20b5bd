import cluster from 'node:cluster';
import type pg from 'pg';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { joinClusterMetrics, scrapeCluster } from './cluster-metrics.ts';

/**
 * Lock's Prometheus metrics, one registry per process (a cluster's scrape sums its workers').
 * Labels are bounded sets (route templates, grant types, configured resources and connectors),
 * never user input.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'lock_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Tokens issued since the last scrape, by grant type and resource: counted per token, labelled per scrape. */
  readonly #tokensUnscraped = new Map<string, Map<string, number>>();

  readonly #tokensIssued = new Counter({
    name: 'lock_tokens_issued_total',
    help: 'Successful token endpoint responses by grant type and resource',
    labelNames: ['grant_type', 'resource'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [grantType, byResource] of this.#tokensUnscraped)
        for (const [resource, count] of byResource)
          this.#tokensIssued.inc({ grant_type: grantType, resource }, count);
      this.#tokensUnscraped.clear();
    },
  });

  /** One successful token response: a map increment, not a labelled series lookup, on the token path. */
  tokenIssued(grantType: string, resource: string): void {
    let byResource = this.#tokensUnscraped.get(grantType);
    if (!byResource) {
      byResource = new Map();
      this.#tokensUnscraped.set(grantType, byResource);
    }
    byResource.set(resource, (byResource.get(resource) ?? 0) + 1);
  }

  readonly logins = new Counter({
    name: 'lock_logins_total',
    help: 'Sign-in attempts by connector and outcome',
    labelNames: ['connector', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'lock_upstream_request_duration_seconds',
    help: 'Calls to upstream identity providers (LDAP, SAML metadata) by connector and outcome',
    labelNames: ['connector', 'operation', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** OIDC back-channel logout deliveries by outcome (src/oidc/backchannel-logout.ts names the set). */
  readonly backchannelLogouts = new Counter({
    name: 'lock_backchannel_logout_total',
    help: 'Back-channel logout token deliveries by outcome: delivered, refused, failed, dropped',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  #signingKeyAges: () => Array<{ alg: string; ageSeconds: number }> = () => [];

  constructor(pool: pg.Pool) {
    collectDefaultMetrics({ register: this.registry, prefix: 'lock_' });
    if (cluster.isWorker) joinClusterMetrics(this.registry);
    const signingKeyAges = () => this.#signingKeyAges();
    new Gauge({
      name: 'lock_db_pool_connections',
      help: 'PostgreSQL pool connections by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
        this.set({ state: 'waiting' }, pool.waitingCount);
      },
    });
    new Gauge({
      name: 'lock_signing_key_age_seconds',
      help: 'Seconds since the signing key of each algorithm started signing',
      labelNames: ['alg'] as const,
      registers: [this.registry],
      aggregator: 'max', // every worker signs with the same keys: not a sum
      collect() {
        this.reset();
        for (const { alg, ageSeconds } of signingKeyAges()) this.set({ alg }, ageSeconds);
      },
    });
  }

  readonly #requestSeries = new Map<string, { observe(seconds: number): void }>();

  /**
   * One request's duration; the label set's series is looked up once, not hashed per request.
   * Past MAX_REQUEST_SERIES label sets (the closed sets below make ~500 at most) a new one is
   * counted under `route="other"`: whatever a client sends, /metrics stays small.
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const verb = METHODS.has(method) ? method : 'other';
    const code = status >= 100 && status <= 599 ? status : 0;
    const key = `${route} ${verb} ${code}`;
    let series = this.#requestSeries.get(key);
    if (!series) {
      if (this.#requestSeries.size >= MAX_REQUEST_SERIES) {
        this.httpDuration.observe({ route: 'other', method: verb, status: code }, seconds);
        return;
      }
      series = this.httpDuration.labels({ route, method: verb, status: code });
      this.#requestSeries.set(key, series);
    }
    series.observe(seconds);
  }

  /** The text `/metrics` answers: this process's registry, or the whole cluster's in a worker. */
  exposition(): Promise<string> {
    return cluster.isWorker ? scrapeCluster() : this.registry.metrics();
  }

  /** Where the key-age gauge reads from (the runtime, once it exists). */
  observeSigningKeys(source: () => Array<{ alg: string; ageSeconds: number }>): void {
    this.#signingKeyAges = source;
  }
}

/** Request-duration label sets kept apart; what a client cannot reach stays far below this. */
export const MAX_REQUEST_SERIES = 1000;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const KNOWN_ROUTES = new Set([
  '/token',
  '/token/introspection',
  '/token/revocation',
  '/auth',
  '/me',
  '/jwks',
  '/session/end',
  '/session/end/confirm',
  '/session/end/success',
  '/.well-known/openid-configuration',
  '/.well-known/oauth-authorization-server',
  '/reg',
  '/healthz',
  '/readyz',
  '/metrics',
  '/admin',
  '/admin/api',
]);

/** What follows `/interaction/<uid>` on Lock's interaction routes (connector ids as `:connector`). */
const INTERACTION_STEPS = new Set([
  '',
  '/login',
  '/confirm',
  '/abort',
  '/totp',
  '/totp/continue',
  '/sso/:connector',
  '/sso/:connector/complete',
]);

const SAML_STEPS = new Set(['/acs', '/metadata']);

/**
 * A route label from a closed set: a known route, the template of an id-bearing one, or `other`
 * (`routed`: the path as the routers see it, src/http/routed-path.ts).
 * Nothing a client writes into a path becomes a label (ids, connector names, random suffixes), so
 * the number of series is fixed by this file, not by the traffic.
 */
export function routeLabel(routed: string): string {
  if (KNOWN_ROUTES.has(routed)) return routed;
  if (routed.startsWith('/interaction/')) {
    const step = routed.replace(/^\/interaction\/[^/]+/, '').replace(/^\/sso\/[^/]+/, '/sso/:connector');
    return INTERACTION_STEPS.has(step) ? `/interaction/:uid${step}` : 'other';
  }
  if (routed.startsWith('/saml/')) {
    const step = routed.replace(/^\/saml\/[^/]+/, '');
    return SAML_STEPS.has(step) ? `/saml/:connector${step}` : 'other';
  }
  if (/^\/auth\/[^/]+$/.test(routed)) return '/auth/:uid';
  if (routed.startsWith('/assets/')) return '/assets';
  if (/^\/(reset|verify-email)\/[^/]+$/.test(routed))
    return routed.startsWith('/reset') ? '/reset/:token' : '/verify-email/:token';
  if (routed === '/reset') return '/reset';
  if (routed.startsWith('/admin/api/')) return '/admin/api';
  if (routed.startsWith('/admin/')) return '/admin';
  return 'other';
}
