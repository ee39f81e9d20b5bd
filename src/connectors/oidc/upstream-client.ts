import { decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { UpstreamError } from '../connector.ts';
import {
  type CallbackExchange,
  UpstreamAnswerError,
  UpstreamAnswerRejected,
} from '../federation/code-flow.ts';
import { accessTokenHashMatches } from './at-hash.ts';
import type { OidcConfig } from './config.ts';

// Discovery is read again this often (new endpoints, new algorithms); JWKS follow key rotation on their own.
const DISCOVERY_TTL_MS = 3_600_000;

/** Claims of a checked ID token merged with userinfo's; `iss` and `sub` from the ID token. */
export type UpstreamClaims = Record<string, unknown> & { iss: string; sub: string };

/** The tokens of a checked code exchange or refresh. */
export interface UpstreamTokens {
  claims: UpstreamClaims;
  refreshToken?: string;
}

/**
 * Lock as a client of one upstream OpenID provider, through openid-client: discovery (cached), the
 * authorization URL, and the code exchange with the ID token checked by the book (OIDC Core
 * §3.1.3.7: iss exactly, aud containing the client id, azp, exp/iat with leeway, nonce, the
 * signature against the upstream's JWKS with asymmetric algorithms only, re-read on an unknown key;
 * at_hash when present) and the authorization response's `iss` (RFC 9207) against mix-up.
 */
export class OidcUpstreamClient {
  readonly #connectorId: string;
  readonly #config: OidcConfig;
  #discovered: { at: number; configuration: Promise<client.Configuration> } | undefined;

  constructor(connectorId: string, config: OidcConfig) {
    this.#connectorId = connectorId;
    this.#config = config;
  }

  /** The upstream's configuration from discovery; UpstreamError when it cannot be read. */
  async configuration(): Promise<client.Configuration> {
    const cached = this.#discovered;
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.configuration;
    const configuration = this.#discover();
    this.#discovered = { at: Date.now(), configuration };
    // A failed discovery is tried again by the next sign-in, not remembered.
    configuration.catch(() => {
      if (this.#discovered?.configuration === configuration) this.#discovered = undefined;
    });
    return configuration;
  }

  async #discover(): Promise<client.Configuration> {
    const config = this.#config;
    const metadata: Partial<client.ClientMetadata> = {
      [client.clockTolerance]: config.clockToleranceSeconds,
      ...(config.idTokenSigningAlg !== undefined && {
        id_token_signed_response_alg: config.idTokenSigningAlg,
      }),
    };
    try {
      return await client.discovery(new URL(config.issuer), config.clientId, metadata, this.#clientAuth(), {
        timeout: config.timeoutSeconds,
        execute: [
          // openid-client trusts TLS for ID tokens from the token endpoint and skips their
          // signature; Lock checks it against the upstream's JWKS (OIDC Core §3.1.3.7 item 6).
          client.enableNonRepudiationChecks,
          ...(config.allowInsecureIssuer ? [client.allowInsecureRequests] : []),
        ],
      });
    } catch (error) {
      throw new UpstreamError(
        `OIDC connector ${this.#connectorId}: discovery at ${config.issuer} failed: ${describe(error)}`,
        { cause: error },
      );
    }
  }

  #clientAuth(): client.ClientAuth {
    const { clientAuth, clientSecret } = this.#config;
    if (clientAuth === 'none') return client.None();
    if (clientAuth === 'client_secret_post') return client.ClientSecretPost(clientSecret);
    return client.ClientSecretBasic(clientSecret);
  }

  /** Where to send the browser for one sign-in. */
  async authorizationUrl(request: {
    redirectUri: string;
    state: string;
    nonce: string;
    codeChallenge: string;
    forceAuthn: boolean;
    maxAgeSeconds?: number;
  }): Promise<URL> {
    const configuration = await this.configuration();
    return client.buildAuthorizationUrl(configuration, {
      response_type: 'code',
      redirect_uri: request.redirectUri,
      scope: this.#config.scopes.join(' '),
      state: request.state,
      nonce: request.nonce,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      ...(request.forceAuthn && { prompt: 'login' }),
      ...(request.maxAgeSeconds !== undefined && { max_age: String(request.maxAgeSeconds) }),
    });
  }

  /**
   * The callback's answer checked and its code exchanged. Throws UpstreamAnswerError (the upstream's
   * own error, after its `iss` and `state` check out), UpstreamAnswerRejected or UpstreamError.
   */
  async exchange(callback: CallbackExchange): Promise<UpstreamTokens> {
    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callback.currentUrl, {
        expectedState: callback.state,
        expectedNonce: callback.nonce,
        pkceCodeVerifier: callback.codeVerifier,
        idTokenExpected: true,
        ...(callback.maxAgeSeconds !== undefined && { maxAge: callback.maxAgeSeconds }),
      });
    } catch (error) {
      throw this.#failure('the code exchange', error);
    }
    return { claims: await this.#checkedClaims(configuration, tokens), ...refreshTokenOf(tokens) };
  }

  /**
   * A refresh at the upstream with the person's refresh token: their claims as they are now, or
   * 'refused' when the upstream refuses the token (revoked, the person disabled).
   */
  async refresh(refreshToken: string, expectedSub: string): Promise<UpstreamTokens | { refused: string }> {
    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(configuration, refreshToken, {
        scope: this.#config.scopes.join(' '),
      });
    } catch (error) {
      const failure = this.#failure('the refresh', error);
      if (failure instanceof UpstreamAnswerError || failure instanceof UpstreamAnswerRejected)
        return { refused: failure.message };
      throw failure;
    }
    let claims: UpstreamClaims;
    try {
      claims = await this.#checkedClaims(configuration, tokens, expectedSub);
    } catch (error) {
      if (error instanceof UpstreamAnswerRejected || error instanceof UpstreamAnswerError)
        return { refused: error.message };
      throw error;
    }
    return { claims, ...refreshTokenOf(tokens) };
  }

  /** The ID token's claims (openid-client checked them) with at_hash and azp checked, merged with userinfo. */
  async #checkedClaims(
    configuration: client.Configuration,
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
    expectedSub?: string,
  ): Promise<UpstreamClaims> {
    const idClaims = tokens.claims() as (Record<string, unknown> & { iss: string; sub: string }) | undefined;
    if (!idClaims && expectedSub === undefined)
      throw new UpstreamAnswerRejected('the token response has no ID token');
    if (idClaims) {
      if (expectedSub !== undefined && idClaims.sub !== expectedSub)
        throw new UpstreamAnswerRejected('the refreshed ID token is for another subject');
      // §3.1.3.7 item 5: an azp must name this client, whatever the number of audiences.
      if (idClaims.azp !== undefined && idClaims.azp !== this.#config.clientId)
        throw new UpstreamAnswerRejected(`the ID token's azp ${String(idClaims.azp)} is not this client`);
      if (typeof idClaims.at_hash === 'string') {
        const { alg } = decodeProtectedHeader(tokens.id_token!);
        if (!accessTokenHashMatches(idClaims.at_hash, tokens.access_token, String(alg)))
          throw new UpstreamAnswerRejected('the ID token’s at_hash does not match the access token');
      }
    }
    const sub = idClaims?.sub ?? expectedSub!;
    const iss = idClaims?.iss ?? configuration.serverMetadata().issuer;
    if (!this.#config.userinfo || !configuration.serverMetadata().userinfo_endpoint)
      return idClaims ?? { iss, sub };
    let userinfo: Record<string, unknown>;
    try {
      userinfo = await client.fetchUserInfo(configuration, tokens.access_token, sub);
    } catch (error) {
      throw this.#failure('userinfo', error);
    }
    // The ID token's own claims (iss, sub, aud, nonce, …) are not userinfo's to change.
    return { ...userinfo, ...(idClaims ?? {}), iss, sub };
  }

  /** An openid-client failure as what the callback makes of it. */
  #failure(step: string, error: unknown): Error {
    const prefix = `OIDC connector ${this.#connectorId}: ${step}`;
    if (error instanceof client.AuthorizationResponseError)
      return new UpstreamAnswerError(error.error, error.error_description);
    if (error instanceof client.ResponseBodyError) {
      // The token endpoint's answer: invalid_grant (a spent or foreign code, a revoked refresh token) is a refusal.
      if (error.status >= 500)
        return new UpstreamError(`${prefix}: the upstream answered ${error.status} ${error.error}`);
      return new UpstreamAnswerRejected(
        `${step}: the token endpoint answered ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`,
      );
    }
    if (isUnreachable(error))
      return new UpstreamError(`${prefix} failed: ${describe(error)}`, { cause: error });
    return new UpstreamAnswerRejected(`${step}: ${describe(error)}`);
  }
}

function refreshTokenOf(tokens: { refresh_token?: string }): { refreshToken?: string } {
  return typeof tokens.refresh_token === 'string' ? { refreshToken: tokens.refresh_token } : {};
}

// Codes of openid-client's own errors that say the upstream could not be reached or did not answer usably.
const UNREACHABLE = new Set([
  'OAUTH_TIMEOUT',
  'OAUTH_ABORT',
  'OAUTH_RESPONSE_IS_NOT_CONFORM',
  'OAUTH_RESPONSE_IS_NOT_JSON',
]);

function isUnreachable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, DNS
  const code = (error as { code?: unknown }).code;
  return error instanceof client.ClientError && typeof code === 'string' && UNREACHABLE.has(code);
}

/** An error as one line for the admin: openid-client's message and what caused it. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  const code = (error as { code?: unknown }).code;
  return `${error.message}${cause}${typeof code === 'string' ? ` (${code})` : ''}`;
}
