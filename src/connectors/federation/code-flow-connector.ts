import type { Logger } from '../../observability/logger.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { Queryable } from '../../store/pool.ts';
import type {
  CallbackOutcome,
  RedirectConnector,
  RefreshConnector,
  UpstreamIdentity,
  UpstreamLogin,
  UpstreamObserver,
} from '../connector.ts';
import { ssoCallbackUrl } from './callback-route.ts';
import {
  type AuthorizationRequest,
  type CallbackExchange,
  CodeFlow,
  type ExchangedLogin,
} from './code-flow.ts';
import { type UpstreamReread, UpstreamSessions } from './upstream-sessions.ts';

// How long the person may take at the upstream.
const REQUEST_TTL_MS = 15 * 60_000;

export interface CodeFlowConnectorOptions {
  id: string;
  name: string;
  /** As stored: each type validates it again (secrets opened). */
  config: Record<string, unknown>;
  db: Queryable;
  log: Logger;
  box: SecretBox;
  /** Lock's issuer URL: the redirect URI is `<issuer>/sso/<id>/callback`. */
  issuer: string;
  now: () => Date;
  observeUpstream?: UpstreamObserver;
}

/**
 * What every connector signing people in through an upstream's authorization code flow (oidc,
 * oauth2) shares: the flow bound to the interaction and the browser (code-flow.ts), the upstream
 * session a Lock refresh re-reads at most every refresh interval (upstream-sessions.ts), and the
 * redirect URI. A type says how to build the upstream's URL, how to redeem its answer and how to
 * read the person again.
 */
export abstract class CodeFlowConnector implements RedirectConnector, RefreshConnector {
  abstract readonly type: string;
  readonly id: string;
  readonly name: string;
  readonly redirectUri: string;
  protected readonly log: Logger;
  protected readonly now: () => Date;
  protected readonly observe: UpstreamObserver | undefined;
  readonly #flow: CodeFlow;
  readonly #sessions: UpstreamSessions;

  constructor(options: CodeFlowConnectorOptions, refreshIntervalSeconds: number) {
    this.id = options.id;
    this.name = options.name;
    this.log = options.log;
    this.now = options.now;
    this.observe = options.observeUpstream;
    this.redirectUri = ssoCallbackUrl(options.issuer, options.id);
    this.#sessions = new UpstreamSessions({
      connectorId: options.id,
      db: options.db,
      box: options.box,
      now: options.now,
      refreshIntervalMs: refreshIntervalSeconds * 1000,
    });
    this.#flow = new CodeFlow({
      connectorId: options.id,
      db: options.db,
      now: options.now,
      redirectUri: this.redirectUri,
      requestTtlMs: REQUEST_TTL_MS,
      authorizationUrl: (request) => this.authorizationUrl(request),
      exchange: (callback) => this.exchange(callback),
      remember: (identity, kept) => this.#sessions.remember(identity, kept),
    });
  }

  /** The upstream's authorization URL for this request. */
  protected abstract authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  /** Checks the callback's answer and redeems its code (CodeFlowOptions.exchange). */
  protected abstract exchange(callback: CallbackExchange): Promise<ExchangedLogin>;
  /** Reads the person again with what was kept of the upstream session. */
  protected abstract reread(identity: UpstreamIdentity, kept: string): Promise<UpstreamReread>;

  start(
    request: Parameters<RedirectConnector['start']>[0],
  ): Promise<{ redirectUrl: string; browserBinding: string }> {
    return this.#flow.start(request);
  }

  receive(params: URLSearchParams): Promise<CallbackOutcome> {
    return this.#flow.receive(params);
  }

  complete(request: Parameters<RedirectConnector['complete']>[0]): Promise<UpstreamLogin | undefined> {
    return this.#flow.complete(request);
  }

  /** The person as the upstream has them now (at most every refresh interval); undefined when it refuses. */
  refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    return this.#sessions.refresh(
      identity,
      (kept) => this.reread(identity, kept),
      (reason) =>
        this.log.info({ connector: this.id, reason }, 'upstream session over: Lock refresh refused'),
    );
  }
}

/** A stored config parsed by a type's schema, or an error naming every problem. */
export function parsedConfig<T>(
  what: string,
  options: CodeFlowConnectorOptions,
  schema: {
    safeParse(
      value: unknown,
    ):
      | { success: true; data: T }
      | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } };
  },
): T {
  const parsed = schema.safeParse(options.config);
  if (parsed.success) return parsed.data;
  throw new Error(
    `${what} ${options.id}: invalid config: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
  );
}
