import { z } from 'zod';
import {
  type ConnectionTestReport,
  observed,
  type TestableConnector,
  UpstreamError,
  type UpstreamIdentity,
} from '../connector.ts';
import {
  type AuthorizationRequest,
  type CallbackExchange,
  type ExchangedLogin,
  UpstreamAnswerError,
  UpstreamAnswerRejected,
} from '../federation/code-flow.ts';
import {
  CodeFlowConnector,
  type CodeFlowConnectorOptions,
  parsedConfig,
} from '../federation/code-flow-connector.ts';
import type { UpstreamReread } from '../federation/upstream-sessions.ts';
import { type OAuth2Config, oauth2ConfigSchema } from './config.ts';
import { testOAuth2Upstream } from './test-connection.ts';
import { OAuth2UpstreamClient, UpstreamRefused, type UpstreamTokens } from './upstream-client.ts';
import { mapUpstreamUser } from './user-mapping.ts';

/** What the registry hands an oauth2 connector. */
export type OAuth2ConnectorOptions = CodeFlowConnectorOptions;

/**
 * What Lock keeps (sealed, as the upstream session's token: federation/upstream-sessions.ts) to read
 * the person again: the refresh token where the upstream issues them, else the access token itself
 * (GitHub OAuth Apps' tokens do not expire; revoking the app's authorization ends them).
 */
const keptTokens = z.object({ accessToken: z.string(), refreshToken: z.string().optional() });
const keep = (tokens: UpstreamTokens) =>
  JSON.stringify({
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
  } satisfies z.input<typeof keptTokens>);

/**
 * Sign-in through a plain OAuth 2.0 provider, which has no ID token (GitHub, GitLab, …): the code
 * flow with `state` and PKCE S256 bound to the interaction and the browser (federation/code-flow.ts),
 * then the user's JSON document, and a JSON array of groups where configured, read with the access
 * token and mapped by dot paths. The person is the mapped `id` within this connector, never a name
 * or an email. A Lock refresh reads them upstream again at most every `refreshInterval`; an upstream
 * that refuses (revoked token, gone user) ends it.
 */
export class OAuth2Connector extends CodeFlowConnector implements TestableConnector {
  readonly type = 'oauth2';
  readonly config: OAuth2Config;
  readonly #upstream: OAuth2UpstreamClient;

  constructor(options: CodeFlowConnectorOptions) {
    const config = parsedConfig('OAuth 2.0 connector', options, oauth2ConfigSchema);
    super(options, config.refreshInterval);
    this.config = config;
    this.#upstream = new OAuth2UpstreamClient(options.id, config);
  }

  /** The admin's "Test connection": the token endpoint, then each URL answers (test-connection.ts). */
  testConnection(): Promise<ConnectionTestReport> {
    return testOAuth2Upstream(this.config, { timeoutMs: this.config.timeoutSeconds * 1000 });
  }

  // No ID token, so no nonce: `state` and PKCE bind the answer to the request.
  protected async authorizationUrl(request: AuthorizationRequest): Promise<URL> {
    return new URL(this.#upstream.authorizationUrl(request));
  }

  /** The callback's answer: an error is the upstream's; a code is redeemed (with the PKCE verifier) and the user read. */
  protected async exchange(callback: CallbackExchange): Promise<ExchangedLogin> {
    const error = callback.params.get('error');
    if (error !== null)
      throw new UpstreamAnswerError(
        error.slice(0, 100),
        callback.params.get('error_description')?.slice(0, 200) ?? undefined,
      );
    const code = callback.params.get('code');
    if (!code) throw new UpstreamAnswerRejected('the callback has neither a code nor an error');
    let tokens: UpstreamTokens;
    try {
      tokens = await observed(this.observe, 'token', () =>
        this.#upstream.redeem({
          redirectUri: this.redirectUri,
          code,
          state: callback.state,
          codeVerifier: callback.codeVerifier,
        }),
      );
    } catch (failure) {
      if (failure instanceof UpstreamRefused)
        throw new UpstreamAnswerRejected(`code refused upstream: ${failure.message}`);
      throw failure;
    }
    const authTime = Math.floor(this.now().getTime() / 1000);
    try {
      const identity = await this.#readUser(tokens.accessToken);
      return { login: { identity, authTime }, refreshToken: keep(tokens) };
    } catch (failure) {
      // A token the upstream issued a moment ago and refuses now: the upstream is not usable.
      if (failure instanceof UpstreamRefused)
        throw new UpstreamError(`OAuth 2.0 connector ${this.id}: ${failure.message} it had just issued`);
      throw failure;
    }
  }

  /** A Lock refresh past the interval: a new access token where there is a refresh token, then the user read again. */
  protected async reread(_identity: UpstreamIdentity, sealedState: string): Promise<UpstreamReread> {
    try {
      const kept = keptTokens.parse(JSON.parse(sealedState));
      const tokens: UpstreamTokens = kept.refreshToken
        ? await observed(this.observe, 'refresh', () => this.#upstream.refresh(kept.refreshToken!))
        : { accessToken: kept.accessToken };
      const identity = await this.#readUser(tokens.accessToken);
      return { kind: 'current', identity, refreshToken: keep(tokens) };
    } catch (failure) {
      if (failure instanceof UpstreamRefused) return { kind: 'refused', reason: failure.message };
      throw failure;
    }
  }

  /** The user document, and the groups document where configured, mapped to an identity. */
  async #readUser(accessToken: string): Promise<UpstreamIdentity> {
    const user = await observed(this.observe, 'userinfo', () =>
      this.#upstream.document(this.config.userinfoUrl, accessToken, 'the userinfo URL'),
    );
    const groupsUrl = this.config.groupsUrl;
    const groups =
      groupsUrl === undefined
        ? undefined
        : await observed(this.observe, 'groups', () =>
            this.#upstream.document(groupsUrl, accessToken, 'the groups URL'),
          );
    const mapped = mapUpstreamUser(this.config, user, groups);
    if (typeof mapped === 'string') throw new UpstreamError(`OAuth 2.0 connector ${this.id}: ${mapped}`);
    return mapped;
  }
}
