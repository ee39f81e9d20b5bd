import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import type { RunningLock } from '../helpers/lock.ts';
import { API, CALLBACK, WEB_SECRET, webAppClient } from '../helpers/login-fixtures.ts';
import { type AuthorizationRequest, redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

/**
 * A Lock with the `web-app` client (redirecting to `redirectUri`, CALLBACK by default), the
 * upstream connectors given (each `name` its id unless given), Lock's own accounts, and the
 * upstream groups `all-staff` → app_readonly and `admins` → app_admin for each of them;
 * `users`: local accounts (YAML list items).
 */
export function upstreamLockConfig(
  connectors: Array<{ id: string; type: string; name?: string; config: object }>,
  { users = [], redirectUri }: { users?: string[]; redirectUri?: string } = {},
): string {
  const extraUsers = users;
  return `
roles: [{ name: app_admin }, { name: app_readonly }]
resources: [{ id: ${API}, scopes: [read], roles: [app_admin, app_readonly] }]
clients:
${webAppClient(redirectUri === undefined ? {} : { redirectUri })}
connectors:
  - { id: local, type: local, name: Lock account }
${connectors.map((connector) => `  - ${JSON.stringify({ name: connector.id, ...connector })}`).join('\n')}
roleMappings:
${connectors
  .flatMap(({ id }) => [
    `  - { connector: ${id}, group: all-staff, roles: [app_readonly] }`,
    `  - { connector: ${id}, group: admins, roles: [app_admin] }`,
  ])
  .join('\n')}
${extraUsers.length > 0 ? `users:\n${extraUsers.map((user) => `  - ${user}`).join('\n')}` : ''}
`;
}

export interface UpstreamSignInResult {
  /** Lock's page when the sign-in did not reach the client. */
  status: number;
  page: string;
  tokens?: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  access?: JWTPayload;
  idToken?: JWTPayload;
}

/** A sign-in started at Lock by the `web-app` client, now at the upstream's authorization endpoint. */
export interface StartedUpstreamSignIn {
  request: AuthorizationRequest;
  browser: UserAgent;
  /** Where Lock sent the browser: the upstream's authorization URL. */
  upstreamUrl: URL;
}

/** `web-app` asks Lock for a sign-in with `connector=<id>`: Lock sends the browser straight upstream. */
export async function startUpstreamSignIn(
  lock: RunningLock,
  connector: string,
): Promise<StartedUpstreamSignIn> {
  const request = await startAuthorization(
    lock.issuer,
    { id: 'web-app', secret: WEB_SECRET },
    { redirect_uri: CALLBACK, scope: 'openid profile email groups', resource: API, connector },
  );
  const browser = new UserAgent(lock.issuer);
  const sent = await browser.follow(request.url.toString());
  if (!sent.left)
    throw new Error(
      `Lock did not send the browser upstream: ${sent.response.status} ${await sent.response.text()}`,
    );
  return { request, browser, upstreamUrl: new URL(sent.left) };
}

/** The browser at the upstream's authorization endpoint (which decides at once): where it is sent back to. */
export async function answerUpstream(upstreamUrl: URL | string): Promise<URL> {
  const response = await fetch(upstreamUrl, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (!location)
    throw new Error(`the upstream did not redirect: ${response.status} ${await response.text()}`);
  return new URL(location, upstreamUrl);
}

/** The browser brings the upstream's answer to Lock's callback and follows Lock to the client. */
export async function finishUpstreamSignIn(
  lock: RunningLock,
  started: StartedUpstreamSignIn,
  callback: URL | string,
): Promise<UpstreamSignInResult> {
  const done = await started.browser.follow(callback.toString());
  if (!done.left?.startsWith(`${CALLBACK}?code=`))
    return { status: done.response.status, page: pageText(await done.response.text()) };
  const tokens = await redeem(started.request, new URL(done.left));
  return {
    status: 200,
    page: '',
    tokens,
    access: await verifyAccessToken(lock, tokens.access_token),
    idToken: tokens.claims() as JWTPayload,
  };
}

/** The whole sign-in, the upstream deciding at once (as it is told to beforehand). */
export async function upstreamSignIn(lock: RunningLock, connector: string): Promise<UpstreamSignInResult> {
  const started = await startUpstreamSignIn(lock, connector);
  return finishUpstreamSignIn(lock, started, await answerUpstream(started.upstreamUrl));
}

/**
 * The client uses a refresh token: the new access token's claims, or the OAuth error code.
 * `aheadSeconds`: how far Lock's clock runs ahead of this one (a test moving Lock's time).
 */
export async function refreshAt(
  lock: RunningLock,
  refreshToken: string,
  aheadSeconds = 0,
): Promise<{ access?: JWTPayload; refreshToken?: string; error?: string }> {
  const config = await oidc.discovery(
    new URL(lock.issuer),
    'web-app',
    { client_secret: WEB_SECRET, [oidc.clockSkew]: aheadSeconds },
    undefined,
    { execute: [oidc.allowInsecureRequests] },
  );
  try {
    const refreshed = await oidc.refreshTokenGrant(config, refreshToken, { resource: API });
    return {
      access: await verifyAccessToken(lock, refreshed.access_token),
      refreshToken: refreshed.refresh_token!,
    };
  } catch (error) {
    return { error: (error as { error?: string }).error ?? String(error) };
  }
}

export async function verifyAccessToken(lock: RunningLock, token: string): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
  return (await jwtVerify(token, jwks, { issuer: lock.issuer, audience: API })).payload;
}

/** The visible text of a page. */
export const pageText = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/\s+/g, ' ')
    .trim();
