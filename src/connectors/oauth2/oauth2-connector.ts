import { z } from 'zod';
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
  UpstreamError,
  type UpstreamIdentity,
  type UpstreamLogin,
  type UpstreamObserver,
} from '../connector.ts';
import { ssoCallbackUrl } from '../federation/callback-route.ts';
import {
  type CallbackExchange,
  CodeFlow,
  type ExchangedLogin,
  UpstreamAnswerError,
  UpstreamAnswerRejected,
} from '../federation/code-flow.ts';
import { type UpstreamReread, UpstreamSessions } from '../federation/upstream-sessions.ts';
import { type OAuth2Config, oauth2ConfigSchema } from './config.ts';
import { testOAuth2Upstream } from './test-connection.ts';
import { OAuth2UpstreamClient, UpstreamRefused, type UpstreamTokens } from './upstream-client.ts';
import { mapUpstreamUser } from './user-mapping.ts';

// How long the user may take at the upstream.
const REQUEST_TTL_MS = 15 * 60_000;

export interface OAuth2ConnectorOptions {
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
export class OAuth2Connector implements RedirectConnector, RefreshConnector, TestableConnector {
  readonly type = 'oauth2';
  readonly id: string;
  readonly name: string;
  readonly config: OAuth2Config;
  readonly redirectUri: string;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #observe: UpstreamObserver | undefined;
  readonly #upstream: OAuth2UpstreamClient;
  readonly #flow: CodeFlow;
  readonly #sessions: UpstreamSessions;

  constructor(options: OAuth2ConnectorOptions) {
    this.id = options.id;
    this.name = options.name;
    const parsed = oauth2ConfigSchema.safeParse(options.config);
    if (!parsed.success)
      throw new Error(
        `OAuth 2.0 connector ${options.id}: invalid config: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    this.config = parsed.data;
    this.#log = options.log;
    this.#now = options.now;
    this.#observe = options.observeUpstream;
    this.redirectUri = ssoCallbackUrl(options.issuer, options.id);
    this.#upstream = new OAuth2UpstreamClient(options.id, this.config);
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
      // No ID token, so no nonce: `state` and PKCE bind the answer to the request.
      authorizationUrl: async (request) => new URL(this.#upstream.authorizationUrl(request)),
      exchange: (callback) => this.#exchange(callback),
      remember: (identity, kept) => this.#sessions.remember(identity, kept),
    });
  }

  start(
    request: Parameters<RedirectConnector['start']>[0],
  ): Promise<{ redirectUrl: string; browserBinding: string }> {
    return this.#flow.start(request);
  }

  /** The admin's "Test connection": the token endpoint, then each URL answers (test-connection.ts). */
  testConnection(): Promise<ConnectionTestReport> {
    return testOAuth2Upstream(this.config, { timeoutMs: this.config.timeoutSeconds * 1000 });
  }

  receive(params: URLSearchParams): Promise<CallbackOutcome> {
    return this.#flow.receive(params);
  }

  complete(request: Parameters<RedirectConnector['complete']>[0]): Promise<UpstreamLogin | undefined> {
    return this.#flow.complete(request);
  }

  /** The person as the upstream has them now (at most every refreshInterval); undefined when it refuses. */
  refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    return this.#sessions.refresh(
      identity,
      (kept) => this.#reread(kept),
      (reason) =>
        this.#log.info({ connector: this.id, reason }, 'upstream session over: Lock refresh refused'),
    );
  }

  /** The callback's answer: an error is the upstream's; a code is redeemed (with the PKCE verifier) and the user read. */
  async #exchange(callback: CallbackExchange): Promise<ExchangedLogin> {
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
      tokens = await observed(this.#observe, 'token', () =>
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
    const authTime = Math.floor(this.#now().getTime() / 1000);
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
  async #reread(sealedState: string): Promise<UpstreamReread> {
    try {
      const kept = keptTokens.parse(JSON.parse(sealedState));
      const tokens: UpstreamTokens = kept.refreshToken
        ? await observed(this.#observe, 'refresh', () => this.#upstream.refresh(kept.refreshToken!))
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
    const user = await observed(this.#observe, 'userinfo', () =>
      this.#upstream.document(this.config.userinfoUrl, accessToken, 'the userinfo URL'),
    );
    const groupsUrl = this.config.groupsUrl;
    const groups =
      groupsUrl === undefined
        ? undefined
        : await observed(this.#observe, 'groups', () =>
            this.#upstream.document(groupsUrl, accessToken, 'the groups URL'),
          );
    const mapped = mapUpstreamUser(this.config, user, groups);
    if (typeof mapped === 'string') throw new UpstreamError(`OAuth 2.0 connector ${this.id}: ${mapped}`);
    return mapped;
  }
}
