import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ADMIN_ROUTES } from '../../src/admin/api/router.ts';
import { errorSchema } from '../../src/admin/api/views.ts';
import { postForm } from '../helpers/lock.ts';
import { signIn } from '../helpers/login-fixtures.ts';
import { passSecondFactor } from '../helpers/second-factor.ts';
import { UserAgent } from '../helpers/user-agent.ts';

/** The bootstrap admin's password in every admin test. */
export const ADMIN_PASSWORD = 'the bootstrap admin passphrase';

/**
 * The admin console's sign-in, the way the console does it (code + PKCE with the built-in
 * lock-console client): what followed the password, and the admin API token.
 */
export async function consoleSignIn(issuer: string, username: string, password: string) {
  const config = await oidc.discovery(new URL(issuer), 'lock-console', undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${issuer}/admin/callback`,
    scope: 'openid admin',
    resource: `${issuer}/admin`,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const agent = new UserAgent(issuer, (next) => next.pathname === '/admin/callback');
  const afterPassword = await signIn(agent, url.toString(), username, password);
  // lock_admin must use a second factor (LOCK_MFA_REQUIRED_ROLES): enrolled at the first sign-in.
  const { landed, html } = afterPassword.landed
    ? afterPassword
    : await passSecondFactor(agent, issuer, username, afterPassword.html);
  assert.ok(landed?.startsWith(`${issuer}/admin/callback?code=`), `sign-in as ${username} failed: ${html}`);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed!), { pkceCodeVerifier: verifier });
  return { afterPassword, accessToken: tokens.access_token };
}

/** A user's admin API token, the way the console gets one. */
export async function consoleToken(issuer: string, username: string, password: string): Promise<string> {
  return (await consoleSignIn(issuer, username, password)).accessToken;
}

/** An automation client's admin API token (client credentials). */
export async function serviceToken(
  issuer: string,
  clientId: string,
  secret: string,
  resource = `${issuer}/admin`,
) {
  const response = await postForm(`${issuer}/token`, { grant_type: 'client_credentials', resource }, [
    clientId,
    secret,
  ]);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.access_token as string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body each test reads as it expects
  body: any;
  text: string;
  etag: string | null;
}

/** Every response body and header this test file received, for the "no secret ever returned" check. */
const received: string[] = [];

const routeFor = (method: string, path: string) =>
  ADMIN_ROUTES.find(
    (route) =>
      route.method === method.toLowerCase() &&
      new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+').replaceAll('.', '\\.')}$`).test(path),
  );

/**
 * Calls the admin API as `token`, and checks the answer against the route table: a success
 * against the documented response schema, an error against the error schema.
 */
export function adminApi(issuer: string, token?: string) {
  return async (
    method: string,
    path: string,
    init: { body?: unknown; ifMatch?: string; token?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...init.headers };
    const bearer = init.token ?? token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (init.ifMatch !== undefined) headers['if-match'] = init.ifMatch;
    if (init.body !== undefined) headers['content-type'] ??= 'application/json';
    const [pathOnly] = path.split('?');
    const response = await fetch(`${issuer}/admin/api/v1${path}`, {
      method,
      headers,
      ...(init.body !== undefined && {
        body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
      }),
    });
    const text = await response.text();
    received.push(text, JSON.stringify([...response.headers]));
    const json = response.headers.get('content-type')?.includes('json') && text !== '';
    const body = json ? JSON.parse(text) : text;
    const route = routeFor(method, pathOnly!);
    if (route && response.status === route.response.status && route.response.schema) {
      const checked = route.response.schema.safeParse(body);
      assert.ok(
        checked.success,
        `${method} ${path}: the response does not match its documented schema: ${checked.error}`,
      );
    } else if (response.status >= 400 && json) {
      assert.ok(errorSchema.safeParse(body).success, `${method} ${path}: error body ${text}`);
    }
    return {
      status: response.status,
      headers: response.headers,
      body,
      text,
      etag: response.headers.get('etag'),
    };
  };
}

export type AdminApi = ReturnType<typeof adminApi>;

/** Fails naming the secret when any response so far contained one of `secrets`. */
export function assertNoSecretReturned(secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(secret.length >= 8, 'a secret to look for must be long enough to mean something');
    const leaked = received.find((text) => text.includes(secret));
    assert.equal(leaked, undefined, `a response contained a secret (${secret.slice(0, 4)}…)`);
  }
  assert.ok(received.length > 0);
}

/** The admin API's errors name fields: the problem for `path`, if any. */
export const problemAt = (response: ApiResponse, path: string) =>
  (response.body?.problems as Array<{ path: string; message: string }> | undefined)?.find(
    (problem) => problem.path === path,
  );

/** Polls until `check` holds (another process reloading after NOTIFY). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 1000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** How many responses so far contained `secret` (a generated client secret: exactly the one that created it). */
export const responsesContaining = (secret: string) =>
  received.filter((text, index) => index % 2 === 0 && text.includes(secret)).length;
