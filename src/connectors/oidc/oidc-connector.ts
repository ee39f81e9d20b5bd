import type { Logger } from '../../observability/logger.ts';
import type { SecretBox } from '../../security/secret-box.ts';
import type { Queryable } from '../../store/pool.ts';
import {
  type CallbackOutcome,
  type ConnectionTestReport,
  observed,
  type RedirectConnector,
  type RefreshConnector,
  type TestableConnector,
  type UpstreamIdentity,
  type UpstreamLogin,
  type UpstreamObserver,
} from '../connector.ts';
import { ssoCallbackUrl } from '../federation/callback-route.ts';
import { CodeFlow } from '../federation/code-flow.ts';
import { UpstreamSessions } from '../federation/upstream-sessions.ts';
import { type OidcConfig, oidcConfigSchema } from './config.ts';
import { authenticationOf, identityFromClaims, subjectOf } from './identity.ts';
import { testOidcUpstream } from './test-connection.ts';
import { OidcUpstreamClient } from './upstream-client.ts';

// How long the user may take at the upstream.
const REQUEST_TTL_MS = 15 * 60_000;

export interface OidcConnectorOptions {
  id: string;
  name: string;
  /** As stored: validated again here, secrets opened. */
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
 * Sign-in through an upstream OpenID Connect provider: the code flow with state, nonce and PKCE
 * (federation/code-flow.ts), the ID token checked by openid-client and upstream-client.ts, the
 * person recorded per (connector, iss + sub); a Lock refresh re-reads their claims upstream with
 * their sealed refresh token at most every `refreshInterval` (federation/upstream-sessions.ts).
 */
export class OidcConnector implements RedirectConnector, RefreshConnector, TestableConnector {
  readonly type = 'oidc';
  readonly id: string;
  readonly name: string;
  readonly config: OidcConfig;
  readonly redirectUri: string;
  readonly #log: Logger;
  readonly #observe: UpstreamObserver | undefined;
  readonly #upstream: OidcUpstreamClient;
  readonly #flow: CodeFlow;
  readonly #sessions: UpstreamSessions;

  constructor(options: OidcConnectorOptions) {
    this.id = options.id;
    this.name = options.name;
    const parsed = oidcConfigSchema.safeParse(options.config);
    if (!parsed.success)
      throw new Error(
        `OIDC connector ${options.id}: invalid config: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    this.config = parsed.data;
    this.#log = options.log;
    this.#observe = options.observeUpstream;
    this.redirectUri = ssoCallbackUrl(options.issuer, options.id);
    this.#upstream = new OidcUpstreamClient(options.id, this.config);
    this.#sessions = new UpstreamSessions({
      connectorId: options.id,
      db: options.db,
      box: options.box,
      now: options.now,
      refreshIntervalMs: this.config.refreshInterval * 1000,
    });
    this.#flow = new CodeFlow({
      connectorId: options.id,
      db: options.db,
      now: options.now,
      redirectUri: this.redirectUri,
      requestTtlMs: REQUEST_TTL_MS,
      authorizationUrl: (request) =>
        observed(this.#observe, 'discovery', () => this.#upstream.authorizationUrl(request)),
      exchange: async (callback) => {
        const { claims, refreshToken } = await observed(this.#observe, 'token', () =>
          this.#upstream.exchange(callback),
        );
        return {
          login: { identity: identityFromClaims(claims, this.config), ...authenticationOf(claims) },
          ...(refreshToken !== undefined && { refreshToken }),
        };
      },
      remember: (identity, refreshToken) => this.#sessions.remember(identity, refreshToken),
    });
  }

  start(
    request: Parameters<RedirectConnector['start']>[0],
  ): Promise<{ redirectUrl: string; browserBinding: string }> {
    return this.#flow.start(request);
  }

  /** The admin's "Test connection": discovery, JWKS, the token endpoint (test-connection.ts). */
  testConnection(): Promise<ConnectionTestReport> {
    return testOidcUpstream(this.config, { timeoutMs: this.config.timeoutSeconds * 1000 });
  }

  receive(params: URLSearchParams): Promise<CallbackOutcome> {
    return this.#flow.receive(params);
  }

  complete(request: Parameters<RedirectConnector['complete']>[0]): Promise<UpstreamLogin | undefined> {
    return this.#flow.complete(request);
  }

  /** The person's claims and groups as the upstream has them now (at most every refreshInterval); undefined when it refuses. */
  refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    return this.#sessions.refresh(
      identity,
      async (refreshToken) => {
        const result = await observed(this.#observe, 'refresh', () =>
          this.#upstream.refresh(refreshToken, subjectOf(identity.upstreamId)),
        );
        if ('refused' in result) return { kind: 'refused', reason: result.refused };
        return {
          kind: 'current',
          identity: identityFromClaims(result.claims, this.config),
          ...(result.refreshToken !== undefined && { refreshToken: result.refreshToken }),
        };
      },
      (reason) =>
        this.#log.info({ connector: this.id, reason }, 'upstream session over: Lock refresh refused'),
    );
  }
}
