import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { storedUpstreamIdentitySchema } from '../../model/upstream-identity.ts';
import type { Queryable } from '../../store/pool.ts';
import {
  savePendingUpstreamRequest,
  saveUpstreamLogin,
  takePendingUpstreamRequest,
  takeUpstreamLogin,
} from '../../store/upstream-requests.ts';
import type { CallbackOutcome, UpstreamIdentity, UpstreamLogin, UpstreamRefusal } from '../connector.ts';

/**
 * The authorization code flow with an upstream OpenID Connect or OAuth 2.0 provider, as a
 * RedirectConnector's start/receive/complete: what `oidc` and `oauth2` share. Each request has a
 * fresh `state`, `nonce` and PKCE S256 verifier, kept in PostgreSQL and bound to the interaction
 * and (by a cookie) to the browser that started it; the callback takes it once (DELETE … RETURNING)
 * and the type's `exchange` checks the answer; the browser then completes the login, once.
 */

/** What a type sends upstream for one sign-in. */
export interface AuthorizationRequest {
  state: string;
  nonce: string;
  /** PKCE S256 (RFC 7636). */
  codeChallenge: string;
  redirectUri: string;
  /** The client asked for a fresh login: so must the upstream (`prompt=login`). */
  forceAuthn: boolean;
  maxAgeSeconds?: number;
}

/** What the callback hands a type's `exchange`: the upstream's answer and the request it answers. */
export interface CallbackExchange {
  /** The callback's query exactly as received (state, code, iss, error, …). */
  params: URLSearchParams;
  /** The callback URL as the upstream was told it (redirect_uri), with `params`. */
  currentUrl: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
  maxAgeSeconds?: number;
}

/** A checked sign-in at the upstream, and the refresh token it issued (kept sealed, see UpstreamSessions). */
export interface ExchangedLogin {
  login: UpstreamLogin;
  refreshToken?: string;
}

/** The upstream's answer is not accepted (`reason` for the admin, never the user). */
export class UpstreamAnswerRejected extends Error {
  override name = 'UpstreamAnswerRejected';
}

/** The upstream answered with an OAuth error of its own (`access_denied`, …). */
export class UpstreamAnswerError extends Error {
  override name = 'UpstreamAnswerError';
  readonly error: string;
  readonly description: string | undefined;
  constructor(error: string, description?: string) {
    super(`the upstream answered with the error ${error}${description ? `: ${description}` : ''}`);
    this.error = error;
    this.description = description;
  }
}

/** What the user can do about an upstream's OAuth error code. */
export function refusalOfOAuthError(error: string): UpstreamRefusal {
  if (error === 'access_denied') return 'denied';
  if (
    ['login_required', 'interaction_required', 'consent_required', 'account_selection_required'].includes(
      error,
    )
  )
    return 'authn-failed';
  if (error === 'unmet_authentication_requirements') return 'unsupported-context';
  return 'failed';
}

export interface CodeFlowOptions {
  connectorId: string;
  db: Queryable;
  now: () => Date;
  redirectUri: string;
  /** How long the user may take at the upstream. */
  requestTtlMs: number;
  /** The upstream's authorization URL for this request (discovery may be needed: UpstreamError). */
  authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  /**
   * Checks the answer and exchanges the code. Throws UpstreamAnswerRejected (not accepted),
   * UpstreamAnswerError (the upstream's own error) or UpstreamError (the upstream unusable).
   */
  exchange(callback: CallbackExchange): Promise<ExchangedLogin>;
  /** After a checked sign-in: keeps what a later refresh needs (UpstreamSessions.remember). */
  remember?(identity: UpstreamIdentity, refreshToken: string | undefined): Promise<void>;
}

// How long a checked login waits for its browser to come back (one redirect away).
const LOGIN_TTL_MS = 5 * 60_000;
const STATE_LIMIT = 512;

const storedLogin = z.object({
  identity: storedUpstreamIdentitySchema,
  authnContextClassRef: z.string().optional(),
  amr: z.array(z.string()).optional(),
  authTime: z.number().int().optional(),
});

export class CodeFlow {
  readonly #options: CodeFlowOptions;

  constructor(options: CodeFlowOptions) {
    this.#options = options;
  }

  async start(input: {
    interactionUid: string;
    forceAuthn: boolean;
    maxAgeSeconds?: number | undefined;
  }): Promise<{ redirectUrl: string; browserBinding: string }> {
    const state = randomValue();
    const nonce = randomValue();
    const codeVerifier = randomValue();
    const browserBinding = randomValue();
    const url = await this.#options.authorizationUrl({
      state,
      nonce,
      codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      redirectUri: this.#options.redirectUri,
      forceAuthn: input.forceAuthn,
      ...(input.maxAgeSeconds !== undefined && { maxAgeSeconds: input.maxAgeSeconds }),
    });
    const now = this.#options.now();
    await savePendingUpstreamRequest(
      this.#options.db,
      sha256(state),
      {
        connector: this.#options.connectorId,
        interactionUid: input.interactionUid,
        browserBinding: sha256(browserBinding),
        nonce,
        codeVerifier,
        ...(input.maxAgeSeconds !== undefined && { maxAgeSeconds: input.maxAgeSeconds }),
        expiresAt: new Date(now.getTime() + this.#options.requestTtlMs),
      },
      now,
    );
    return { redirectUrl: url.toString(), browserBinding };
  }

  /** The callback: the request `state` names, taken once, and the upstream's answer checked against it. */
  async receive(params: URLSearchParams): Promise<CallbackOutcome> {
    const state = params.get('state');
    if (!state || state.length > STATE_LIMIT) return { kind: 'malformed' };
    const pending = await takePendingUpstreamRequest(
      this.#options.db,
      { stateHash: sha256(state), connector: this.#options.connectorId },
      this.#options.now(),
    );
    if (!pending)
      return {
        kind: 'rejected',
        reason:
          'the callback names no request this connector sent and has not answered (unknown, expired or replayed state)',
        bulk: 'unknown-state',
      };
    const currentUrl = new URL(this.#options.redirectUri);
    for (const [key, value] of params) currentUrl.searchParams.append(key, value);
    let exchanged: ExchangedLogin;
    try {
      exchanged = await this.#options.exchange({
        params,
        currentUrl,
        state,
        nonce: pending.nonce,
        codeVerifier: pending.codeVerifier,
        ...(pending.maxAgeSeconds !== undefined && { maxAgeSeconds: pending.maxAgeSeconds }),
      });
    } catch (error) {
      if (error instanceof UpstreamAnswerRejected)
        return { kind: 'rejected', reason: `upstream answer refused: ${error.message}` };
      if (error instanceof UpstreamAnswerError)
        return { kind: 'upstream-refused', refusal: refusalOfOAuthError(error.error), reason: error.message };
      throw error;
    }
    await this.#options.remember?.(exchanged.login.identity, exchanged.refreshToken);
    const requestId = randomValue();
    const now = this.#options.now();
    const outcome: z.input<typeof storedLogin> = exchanged.login;
    await saveUpstreamLogin(this.#options.db, {
      id: requestId,
      connector: this.#options.connectorId,
      interactionUid: pending.interactionUid,
      browserBinding: pending.browserBinding,
      outcome,
      expiresAt: new Date(now.getTime() + LOGIN_TTL_MS),
    });
    return { kind: 'answered', interactionUid: pending.interactionUid, requestId };
  }

  /** The login the callback stored, once, for the browser holding the binding cookie; else undefined. */
  async complete(input: {
    requestId: string;
    interactionUid: string;
    browserBinding: string;
  }): Promise<UpstreamLogin | undefined> {
    const outcome = await takeUpstreamLogin(
      this.#options.db,
      {
        id: input.requestId,
        connector: this.#options.connectorId,
        interactionUid: input.interactionUid,
        browserBinding: sha256(input.browserBinding),
      },
      this.#options.now(),
    );
    return outcome === undefined ? undefined : readLogin(outcome);
  }
}

const randomValue = () => randomBytes(32).toString('base64url');
const sha256 = (value: string) => createHash('sha256').update(value).digest();

function readLogin(outcome: unknown): UpstreamLogin {
  const { identity, authnContextClassRef, amr, authTime } = storedLogin.parse(outcome);
  return {
    identity,
    ...(authnContextClassRef !== undefined && { authnContextClassRef }),
    ...(amr !== undefined && { amr }),
    ...(authTime !== undefined && { authTime }),
  };
}
