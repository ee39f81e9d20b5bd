import {
  type ConnectionTestReport,
  observed,
  type TestableConnector,
  type UpstreamIdentity,
} from '../connector.ts';
import type { AuthorizationRequest, CallbackExchange, ExchangedLogin } from '../federation/code-flow.ts';
import {
  CodeFlowConnector,
  type CodeFlowConnectorOptions,
  parsedConfig,
} from '../federation/code-flow-connector.ts';
import type { UpstreamReread } from '../federation/upstream-sessions.ts';
import { type OidcConfig, oidcConfigSchema } from './config.ts';
import { authenticationOf, identityFromClaims, subjectOf } from './identity.ts';
import { testOidcUpstream } from './test-connection.ts';
import { OidcUpstreamClient } from './upstream-client.ts';

/** What the registry hands an oidc connector. */
export type OidcConnectorOptions = CodeFlowConnectorOptions;

/**
 * Sign-in through an upstream OpenID Connect provider: the code flow with state, nonce and PKCE
 * (federation/code-flow.ts), the ID token checked by openid-client and upstream-client.ts, the
 * person recorded per (connector, iss + sub); a Lock refresh re-reads their claims upstream with
 * their sealed refresh token at most every `refreshInterval` (federation/upstream-sessions.ts).
 */
export class OidcConnector extends CodeFlowConnector implements TestableConnector {
  readonly type = 'oidc';
  readonly config: OidcConfig;
  readonly #upstream: OidcUpstreamClient;

  constructor(options: CodeFlowConnectorOptions) {
    const config = parsedConfig('OIDC connector', options, oidcConfigSchema);
    super(options, config.refreshInterval);
    this.config = config;
    this.#upstream = new OidcUpstreamClient(options.id, config);
  }

  /** The admin's "Test connection": discovery, JWKS, the token endpoint (test-connection.ts). */
  testConnection(): Promise<ConnectionTestReport> {
    return testOidcUpstream(this.config, { timeoutMs: this.config.timeoutSeconds * 1000 });
  }

  protected authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    return observed(this.observe, 'discovery', () => this.#upstream.authorizationUrl(request));
  }

  protected async exchange(callback: CallbackExchange): Promise<ExchangedLogin> {
    const { claims, refreshToken } = await observed(this.observe, 'token', () =>
      this.#upstream.exchange(callback),
    );
    return {
      login: { identity: identityFromClaims(claims, this.config), ...authenticationOf(claims) },
      ...(refreshToken !== undefined && { refreshToken }),
    };
  }

  /** The person's claims and groups as the upstream has them now, with their sealed refresh token. */
  protected async reread(identity: UpstreamIdentity, refreshToken: string): Promise<UpstreamReread> {
    const result = await observed(this.observe, 'refresh', () =>
      this.#upstream.refresh(refreshToken, subjectOf(identity.upstreamId)),
    );
    if ('refused' in result) return { kind: 'refused', reason: result.refused };
    return {
      kind: 'current',
      identity: identityFromClaims(result.claims, this.config),
      ...(result.refreshToken !== undefined && { refreshToken: result.refreshToken }),
    };
  }
}
