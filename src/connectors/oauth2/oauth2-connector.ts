import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../../observability/logger.ts';
import type { Queryable } from '../../store/pool.ts';
import {
  savePendingUpstreamRequest,
  saveUpstreamLogin,
  takePendingUpstreamRequest,
  takeUpstreamLogin,
} from '../../store/upstream-requests.ts';
import {
  claimUpstreamRefresh,
  findUpstreamToken,
  forgetUpstreamToken,
  releaseUpstreamRefresh,
  saveUpstreamToken,
} from '../../store/upstream-tokens.ts';
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
import { type OAuth2Config, oauth2ConfigSchema } from './config.ts';
import { testOAuth2Upstream } from './test-connection.ts';
import { OAuth2UpstreamClient, UpstreamRefused, type UpstreamTokens } from './upstream-client.ts';
import { mapUpstreamUser } from './user-mapping.ts';

// How long the user may take at the upstream, and the browser to come back for the login after.
const REQUEST_TTL_MS = 15 * 60_000;
const LOGIN_TTL_MS = 5 * 60_000;
// One process at a time refreshes a person's upstream session; a crashed one frees it after this.
const REFRESH_CLAIM_MS = 30_000;

/** Seals what Lock keeps of an upstream (its tokens) under the key-encryption key. */
export interface UpstreamSealer {
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
}

export interface OAuth2ConnectorOptions {
  id: string;
  name: string;
  /** As stored, secrets opened: validated again here. */
  config: Record<string, unknown>;
  db: Queryable;
  log: Logger;
  issuer: string;
  now: () => Date;
  sealer: UpstreamSealer;
  observeUpstream?: UpstreamObserver;
}

const storedLogin = z.object({
  identity: z.object({
    upstreamId: z.string(),
    username: z.string(),
    email: z.string().optional(),
    name: z.string().optional(),
    groups: z.array(z.string()),
  }),
  authTime: z.number().int(),
});

// What Lock keeps of a person's upstream session, sealed: without refresh tokens the access token
// is what re-reads the user (GitHub's OAuth App tokens do not expire).
const keptTokens = z.object({ accessToken: z.string(), refreshToken: z.string().optional() });

/**
 * Sign-in through a plain OAuth 2.0 provider (GitHub, GitLab, …), which has no ID token: the code
 * flow with `state` and PKCE S256 bound to the browser, then the user's JSON document (and, where
 * configured, a JSON array of groups) read with the access token and mapped by dot paths. The
 * identity is the mapped `id` within this connector, never a name or an email. Lock refreshes
 * re-read the user upstream at most every `refreshInterval`; an upstream that refuses ends them.
 */
export class OAuth2Connector implements RedirectConnector, RefreshConnector, TestableConnector {
  readonly type = 'oauth2';
  readonly id: string;
  readonly name: string;
  readonly config: OAuth2Config;
  readonly #client: OAuth2UpstreamClient;
  readonly #db: Queryable;
  readonly #log: Logger;
  readonly #now: () => Date;
  readonly #sealer: UpstreamSealer;
  readonly #redirectUri: string;
  readonly #observe: UpstreamObserver | undefined;

  constructor(options: OAuth2ConnectorOptions) {
    this.id = options.id;
    this.name = options.name;
    const parsed = oauth2ConfigSchema.safeParse(options.config);
    if (!parsed.success)
      throw new Error(
        `OAuth 2.0 connector ${options.id}: invalid config: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    this.config = parsed.data;
    this.#client = new OAuth2UpstreamClient(options.id, this.config);
    this.#db = options.db;
    this.#log = options.log;
    this.#now = options.now;
    this.#sealer = options.sealer;
    this.#observe = options.observeUpstream;
    this.#redirectUri = ssoCallbackUrl(options.issuer, options.id);
  }

  /** The redirect URI an admin registers upstream. */
  get redirectUri(): string {
    return this.#redirectUri;
  }

  async start(request: {
    interactionUid: string;
    forceAuthn: boolean;
    maxAgeSeconds?: number | undefined;
  }): Promise<{ redirectUrl: string; browserBinding: string }> {
    const now = this.#now();
    const state = randomBytes(32).toString('base64url');
    const codeVerifier = randomBytes(32).toString('base64url');
    const browserBinding = randomBytes(32).toString('base64url');
    await savePendingUpstreamRequest(
      this.#db,
      sha256(state),
      {
        connector: this.id,
        interactionUid: request.interactionUid,
        browserBinding: sha256(browserBinding),
        // Plain OAuth 2.0 has no ID token to carry a nonce: `state` and PKCE bind the answer.
        nonce: '',
        codeVerifier,
        expiresAt: new Date(now.getTime() + REQUEST_TTL_MS),
      },
      now,
    );
    const redirectUrl = this.#client.authorizationUrl({
      redirectUri: this.#redirectUri,
      state,
      codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    });
    return { redirectUrl, browserBinding };
  }

  /**
   * The upstream's answer at the callback: the request its `state` names is taken (once), then an
   * error is the upstream's refusal; a code is redeemed and the user read and mapped.
   */
  /** The admin's "Test connection": the token endpoint, then each URL answers (test-connection.ts). */
  testConnection(): Promise<ConnectionTestReport> {
    return testOAuth2Upstream(this.config, { timeoutMs: this.config.timeoutSeconds * 1000 });
  }

  async receive(params: URLSearchParams): Promise<CallbackOutcome> {
    const state = params.get('state');
    const code = params.get('code');
    const error = params.get('error');
    if (!state || (!code && !error)) return { kind: 'malformed' };
    const now = this.#now();
    const request = await takePendingUpstreamRequest(
      this.#db,
      { stateHash: sha256(state), connector: this.id },
      now,
    );
    if (!request)
      return {
        kind: 'rejected',
        reason:
          'OAuth 2.0 callback refused: its state names no pending request of this connector (unknown, expired or already answered)',
        bulk: 'unknown-state',
      };
    if (error) {
      const description = params.get('error_description');
      return {
        kind: 'upstream-refused',
        refusal: error === 'access_denied' ? 'denied' : 'failed',
        reason: `the upstream answered ${error.slice(0, 100)}${description ? `: ${description.slice(0, 200)}` : ''}`,
      };
    }
    let tokens: UpstreamTokens;
    try {
      tokens = await this.#upstream('token', () =>
        this.#client.redeem({
          redirectUri: this.#redirectUri,
          code: code!,
          state,
          codeVerifier: request.codeVerifier,
        }),
      );
    } catch (failure) {
      if (!(failure instanceof UpstreamRefused)) throw failure;
      return { kind: 'rejected', reason: `OAuth 2.0 code refused upstream: ${failure.message}` };
    }
    let identity: UpstreamIdentity;
    try {
      identity = await this.#readUser(tokens.accessToken);
    } catch (failure) {
      if (!(failure instanceof UpstreamRefused)) throw failure;
      throw new UpstreamError(`OAuth 2.0 connector ${this.id}: ${failure.message} just issued`);
    }
    await this.#keepTokens(identity.upstreamId, tokens, now);
    const id = randomUUID();
    const login: z.input<typeof storedLogin> = {
      identity: {
        upstreamId: identity.upstreamId,
        username: identity.username,
        ...(identity.email !== undefined && { email: identity.email }),
        ...(identity.name !== undefined && { name: identity.name }),
        groups: identity.groups,
      },
      authTime: Math.floor(now.getTime() / 1000),
    };
    await saveUpstreamLogin(this.#db, {
      id,
      connector: this.id,
      interactionUid: request.interactionUid,
      browserBinding: request.browserBinding,
      outcome: login,
      expiresAt: new Date(now.getTime() + LOGIN_TTL_MS),
    });
    return { kind: 'answered', interactionUid: request.interactionUid, requestId: id };
  }

  async complete(request: {
    requestId: string;
    interactionUid: string;
    browserBinding: string;
  }): Promise<UpstreamLogin | undefined> {
    const outcome = await takeUpstreamLogin(
      this.#db,
      {
        id: request.requestId,
        connector: this.id,
        interactionUid: request.interactionUid,
        browserBinding: sha256(request.browserBinding),
      },
      this.#now(),
    );
    if (outcome === undefined) return undefined;
    const { identity, authTime } = storedLogin.parse(outcome);
    return {
      identity: {
        upstreamId: identity.upstreamId,
        username: identity.username,
        ...(identity.email !== undefined && { email: identity.email }),
        ...(identity.name !== undefined && { name: identity.name }),
        groups: identity.groups,
      },
      authTime,
    };
  }

  /**
   * A Lock refresh: within `refreshInterval` of the last look the identity stands; after it, one
   * process reads the user again upstream (refreshing the upstream token first where there is a
   * refresh token). A refusal (revoked token, gone user, another account) ends Lock's refresh; an
   * outage is an UpstreamError, which does not.
   */
  async refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    const now = this.#now();
    const key = { connector: this.id, upstreamId: identity.upstreamId };
    const checkedBefore = new Date(now.getTime() - this.config.refreshInterval * 1000);
    const claimed = await claimUpstreamRefresh(this.#db, key, checkedBefore, now, REFRESH_CLAIM_MS);
    if (!claimed) return (await this.#hasSession(identity)) ? identity : undefined;
    if (claimed.sealedRefreshToken === undefined) {
      await forgetUpstreamToken(this.#db, key);
      return undefined;
    }
    try {
      const kept = keptTokens.parse(JSON.parse(this.#open(identity.upstreamId, claimed.sealedRefreshToken)));
      const tokens = kept.refreshToken
        ? await this.#upstream('refresh', () => this.#client.refresh(kept.refreshToken!))
        : kept;
      const current = await this.#readUser(tokens.accessToken);
      if (current.upstreamId !== identity.upstreamId)
        throw new UpstreamRefused('the token now names another account');
      await this.#keepTokens(identity.upstreamId, tokens, this.#now());
      return current;
    } catch (failure) {
      if (failure instanceof UpstreamRefused) {
        this.#log.info(
          { connector: this.id, reason: failure.message },
          `OAuth 2.0 connector ${this.id}: the upstream refused the session; Lock's refresh ends`,
        );
        await forgetUpstreamToken(this.#db, key);
        return undefined;
      }
      await releaseUpstreamRefresh(this.#db, key);
      throw failure;
    }
  }

  /**
   * Within the interval, or while another process is refreshing: the session stands as long as
   * Lock still keeps one (a refusal upstream deletes it).
   */
  async #hasSession(identity: UpstreamIdentity): Promise<boolean> {
    const kept = await findUpstreamToken(this.#db, { connector: this.id, upstreamId: identity.upstreamId });
    return kept !== undefined;
  }

  /** The user document, and the groups document where configured, mapped to an identity. */
  async #readUser(accessToken: string): Promise<UpstreamIdentity> {
    const user = await this.#upstream('userinfo', () =>
      this.#client.document(this.config.userinfoUrl, accessToken, 'the userinfo URL'),
    );
    const groups =
      this.config.groupsUrl === undefined
        ? undefined
        : await this.#upstream('groups', () =>
            this.#client.document(this.config.groupsUrl!, accessToken, 'the groups URL'),
          );
    const mapped = mapUpstreamUser(this.config, user, groups);
    if (typeof mapped === 'string') throw new UpstreamError(`OAuth 2.0 connector ${this.id}: ${mapped}`);
    return mapped;
  }

  async #keepTokens(upstreamId: string, tokens: UpstreamTokens, now: Date): Promise<void> {
    const kept: z.input<typeof keptTokens> = {
      accessToken: tokens.accessToken,
      ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
    };
    await saveUpstreamToken(
      this.#db,
      { connector: this.id, upstreamId },
      this.#sealer.seal(JSON.stringify(kept), this.#tokenContext(upstreamId)),
      now,
    );
  }

  #open(upstreamId: string, sealed: string): string {
    return this.#sealer.open(sealed, this.#tokenContext(upstreamId));
  }

  // Bound to the person and connector: a sealed token cannot be moved to another row.
  #tokenContext(upstreamId: string): string {
    return `upstream-token:${this.id}:${upstreamId}`;
  }

  #upstream<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return observed(this.#observe, operation, work);
  }
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();
