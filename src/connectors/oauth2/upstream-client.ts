import * as oauth from 'openid-client';
import { UpstreamError } from '../connector.ts';
import type { OAuth2Config } from './config.ts';

/** What the token endpoint gave Lock: the access token, and a refresh token when it issues them. */
export interface UpstreamTokens {
  accessToken: string;
  refreshToken?: string;
}

/**
 * The upstream said no to something it had the right to refuse: a code it does not know (replayed,
 * expired), a refresh token or access token it revoked. A value for the caller, unlike an outage.
 */
export class UpstreamRefused extends Error {
  override name = 'UpstreamRefused';
}

/** The token endpoint's "no" to a code or refresh token: invalid_grant, and GitHub's names for it. */
const REFUSALS = new Set(['invalid_grant', 'bad_verification_code', 'bad_refresh_token']);

/**
 * GitHub answers token requests it refuses with HTTP 200 and `{"error": …}`; RFC 6749 §5.2 says
 * 400. Such an answer from the token endpoint is handed to openid-client as the 400 it means, so
 * it is read as the upstream's error rather than as a garbled token response.
 */
async function tokenErrorsAsErrors(
  tokenUrl: string,
  url: string,
  options: oauth.CustomFetchOptions,
): Promise<Response> {
  const response = await fetch(url, options as RequestInit);
  if (new URL(url).href !== new URL(tokenUrl).href || response.status !== 200) return response;
  const body = await response.text();
  let error: unknown;
  try {
    error = (JSON.parse(body) as { error?: unknown }).error;
  } catch {
    error = undefined;
  }
  return new Response(body, {
    status: typeof error === 'string' ? 400 : 200,
    headers: response.headers,
  });
}

/** The largest JSON document Lock reads from an upstream (a user, a page of organisations). */
const MAX_DOCUMENT_BYTES = 1024 * 1024;

/**
 * Lock as an OAuth 2.0 client of one upstream (openid-client does the protocol: PKCE, client
 * authentication, the token response's checks). Every call is bounded by `timeoutSeconds`; an
 * outage or a garbled answer is an UpstreamError, a refusal an UpstreamRefused.
 */
export class OAuth2UpstreamClient {
  readonly #config: OAuth2Config;
  readonly #client: oauth.Configuration;
  readonly #label: string;

  constructor(connectorId: string, config: OAuth2Config) {
    this.#config = config;
    this.#label = `OAuth 2.0 connector ${connectorId}`;
    const auth =
      config.clientAuth === 'client_secret_basic'
        ? oauth.ClientSecretBasic(config.clientSecret)
        : oauth.ClientSecretPost(config.clientSecret);
    // Plain OAuth 2.0 has no issuer identifier: the authorization endpoint's origin stands in (never
    // checked, for no ID token and no `iss` parameter is read; the redirect URI per connector is
    // what keeps one upstream's answer from reaching another's connector).
    this.#client = new oauth.Configuration(
      {
        issuer: new URL(config.authorizationUrl).origin,
        authorization_endpoint: config.authorizationUrl,
        token_endpoint: config.tokenUrl,
      },
      config.clientId,
      undefined,
      auth,
    );
    this.#client.timeout = config.timeoutSeconds;
    this.#client[oauth.customFetch] = (url, options) => tokenErrorsAsErrors(config.tokenUrl, url, options);
    const urls = [config.authorizationUrl, config.tokenUrl, config.userinfoUrl, config.groupsUrl];
    // The schema allows http only on a loopback host.
    if (urls.some((url) => url?.startsWith('http:'))) oauth.allowInsecureRequests(this.#client);
  }

  /** Where to send the browser: code flow with PKCE S256 and the state. */
  authorizationUrl(request: { redirectUri: string; state: string; codeChallenge: string }): string {
    return oauth
      .buildAuthorizationUrl(this.#client, {
        response_type: 'code',
        redirect_uri: request.redirectUri,
        state: request.state,
        code_challenge: request.codeChallenge,
        code_challenge_method: 'S256',
        ...(this.#config.scopes.length > 0 && { scope: this.#config.scopes.join(' ') }),
      })
      .toString();
  }

  /** Redeems the code (with the PKCE verifier) at the token endpoint. */
  async redeem(request: { redirectUri: string; code: string; state: string; codeVerifier: string }) {
    const callback = new URL(request.redirectUri);
    callback.searchParams.set('code', request.code);
    callback.searchParams.set('state', request.state);
    const tokens = await this.#call('token endpoint', () =>
      oauth.authorizationCodeGrant(this.#client, callback, {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
      }),
    );
    return tokensOf(tokens);
  }

  /** A new access token for a refresh token (the upstream may rotate the refresh token). */
  async refresh(refreshToken: string): Promise<UpstreamTokens> {
    const tokens = await this.#call('token endpoint', () =>
      oauth.refreshTokenGrant(this.#client, refreshToken),
    );
    return { refreshToken, ...tokensOf(tokens) };
  }

  /** A JSON document the access token opens (the userinfo or groups URL). */
  async document(url: string, accessToken: string, what: string): Promise<unknown> {
    return this.#call(what, async () => {
      const response = await oauth.fetchProtectedResource(
        this.#client,
        accessToken,
        new URL(url),
        'GET',
        undefined,
        new Headers({ accept: 'application/json' }),
      );
      if (response.status === 401 || response.status === 403)
        throw new UpstreamRefused(`${what} refused the access token (HTTP ${response.status})`);
      if (!response.ok) throw new UpstreamError(`${this.#label}: ${what} answered HTTP ${response.status}`);
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length > MAX_DOCUMENT_BYTES)
        throw new UpstreamError(`${this.#label}: ${what} answered ${length} bytes, more than Lock reads`);
      const text = await response.text();
      if (text.length > MAX_DOCUMENT_BYTES)
        throw new UpstreamError(`${this.#label}: ${what} answered more than Lock reads`);
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new UpstreamError(`${this.#label}: ${what} did not answer JSON`);
      }
    });
  }

  /** Sorts what went wrong into a refusal (the upstream's say) and an outage (Lock cannot tell). */
  async #call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof UpstreamRefused || error instanceof UpstreamError) throw error;
      if (error instanceof oauth.ResponseBodyError) {
        // RFC 6749 §5.2: invalid_grant is the upstream's "no" to this code or refresh token.
        if (REFUSALS.has(error.error))
          throw new UpstreamRefused(`${what} answered ${error.error}${describe(error.error_description)}`);
        throw new UpstreamError(
          `${this.#label}: ${what} answered ${error.error}${describe(error.error_description)} (HTTP ${error.status})`,
        );
      }
      if (error instanceof oauth.WWWAuthenticateChallengeError)
        throw new UpstreamRefused(`${what} refused the access token (HTTP ${error.status})`);
      // fetch's own timeout, or openid-client's error around it.
      const cause = (error as { cause?: { name?: string; code?: unknown } }).cause;
      if (
        [(error as Error).name, cause?.name].some((name) => name === 'TimeoutError' || name === 'AbortError')
      )
        throw new UpstreamError(
          `${this.#label}: ${what} did not answer within ${this.#config.timeoutSeconds} s`,
        );
      const code = typeof cause?.code === 'string' ? cause.code : undefined;
      throw new UpstreamError(`${this.#label}: ${what} failed: ${code ?? (error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function tokensOf(tokens: oauth.TokenEndpointResponse): UpstreamTokens {
  return {
    accessToken: tokens.access_token,
    ...(typeof tokens.refresh_token === 'string' && { refreshToken: tokens.refresh_token }),
  };
}

// The upstream's own words, bounded: they go to the audit log, never to the page.
const describe = (text: string | undefined) => (text ? `: ${text.slice(0, 200)}` : '');
