import * as oidc from 'openid-client';

export interface AuthorizationRequest {
  config: oidc.Configuration;
  url: URL;
  verifier: string;
  state: string;
}

/** The parameters a test chooses; the PKCE challenge and the state are added. */
export type AuthorizationParams = { redirect_uri: string; scope: string; resource?: string } & Record<
  string,
  string
>;

/** What a confidential web client does to start a sign-in at Lock: discovery, then code + PKCE (S256) with a state. */
export async function startAuthorization(
  issuer: string,
  client: { id: string; secret: string },
  params: AuthorizationParams,
): Promise<AuthorizationRequest> {
  const config = await oidc.discovery(new URL(issuer), client.id, client.secret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  return authorizationRequest(config, params);
}

/** An authorization request of a client already discovered: code + PKCE (S256) with a state. */
export async function authorizationRequest(
  config: oidc.Configuration,
  params: AuthorizationParams,
): Promise<AuthorizationRequest> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    ...params,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  return { config, url, verifier, state };
}

/** The client's side of the callback: the code redeemed, state and PKCE checked. */
export function redeem(request: AuthorizationRequest, callback: URL) {
  return oidc.authorizationCodeGrant(request.config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
  });
}
