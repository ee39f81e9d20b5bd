import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

/**
 * What the OpenID Foundation's conformance suite does against an OP, by hand: a statically
 * registered confidential client (client_secret_basic, code flow, no PKCE unless asked), its
 * redirect, post-logout redirect and back-channel logout URIs, and one user to sign in as.
 */
export const CLIENT = 'conformance-client';
export const SECRET = 'conformance-secret-0123456789';
export const REDIRECT = 'https://rp.example.com/test/a/lock/callback';
export const POST_LOGOUT = 'https://rp.example.com/test/a/lock/post_logout_redirect';
export const USER = { username: 'buffy', password: 'correct horse battery staple' };

export function opConfig(extraClientLines: string[] = []): string {
  return `
clients:
  - clientId: ${CLIENT}
    clientSecret: ${SECRET}
    name: Conformance Suite
    firstParty: true
    redirectUris: [${REDIRECT}]
    postLogoutRedirectUris: [${POST_LOGOUT}]
    grantTypes: [authorization_code, refresh_token]
${extraClientLines.map((line) => `    ${line}`).join('\n')}
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: ${USER.username}, email: buffy@example.com, name: Buffy Summers, password: "${USER.password}" }
`;
}

export interface Op {
  lock: RunningLock;
  discovery: Record<string, unknown> & {
    issuer: string;
    authorization_endpoint: string;
    token_endpoint: string;
    userinfo_endpoint: string;
    jwks_uri: string;
    end_session_endpoint: string;
  };
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

export async function startOp(
  extraClientLines: string[] = [],
  env: Record<string, string> = {},
): Promise<Op> {
  const lock = await startLock({ config: opConfig(extraClientLines), env });
  const discovery = await (await fetch(`${lock.issuer}/.well-known/openid-configuration`)).json();
  return { lock, discovery, jwks: createRemoteJWKSet(new URL(discovery.jwks_uri)) };
}

export const random = () => randomBytes(16).toString('base64url');

/** The suite's default authorization request: code, openid, a state and a nonce. */
export function authorizationUrl(op: Op, params: Record<string, string> = {}) {
  const url = new URL(op.discovery.authorization_endpoint);
  const all: Record<string, string> = {
    client_id: CLIENT,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid',
    state: random(),
    nonce: random(),
    ...params,
  };
  for (const [name, value] of Object.entries(all)) if (value !== '') url.searchParams.set(name, value);
  return url;
}

export const isClient = (url: URL) => url.toString().startsWith('https://rp.example.com/');

export function browser(op: Op) {
  return new UserAgent(op.lock.issuer, isClient);
}

/**
 * Opens the authorization URL in `agent`; if Lock asks for a login, signs in as the user.
 * Returns where the browser was sent back to the client and whether a login page was shown.
 */
export async function authorize(
  agent: UserAgent,
  url: URL | string,
  init: { method?: string; form?: Record<string, string> } = {},
) {
  const page = await agent.follow(url.toString(), init);
  if (page.left) return { callback: new URL(page.left), loginShown: false, html: '' };
  const html = await page.response.text();
  if (!/name="csrf"/.test(html))
    return { callback: undefined, loginShown: false, html, status: page.response.status };
  const form = readLoginForm(html);
  const submitted = await agent.follow(new URL(form.action, page.url).toString(), {
    form: { csrf: form.csrf, ...USER },
  });
  assert.ok(
    submitted.left,
    `signed in and sent back: ${submitted.left ? '' : (await submitted.response.text()).slice(0, 300)}`,
  );
  return { callback: new URL(submitted.left), loginShown: true, html };
}

/** The token request of the suite: the code at the token endpoint, client_secret_basic unless told. */
export function redeemCode(
  op: Op,
  code: string,
  extra: Record<string, string> = {},
  auth: 'basic' | 'post' = 'basic',
) {
  const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...extra };
  return auth === 'basic'
    ? postForm(op.discovery.token_endpoint, form, [CLIENT, SECRET])
    : postForm(op.discovery.token_endpoint, { ...form, client_id: CLIENT, client_secret: SECRET });
}

export type IdToken = JWTPayload & { nonce?: string; auth_time?: number; sid?: string; at_hash?: string };

/** What the suite checks of every ID token (OIDCC 3.1.3.7): signature by the OP's keys, iss, aud, exp, iat, sub, nonce. */
export async function verifyIdToken(op: Op, token: unknown, nonce?: string) {
  assert.equal(typeof token, 'string', 'an id_token is returned');
  const { payload, protectedHeader } = await jwtVerify<IdToken>(token as string, op.jwks, {
    issuer: op.discovery.issuer,
    audience: CLIENT,
    requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
  });
  assert.equal(protectedHeader.alg, 'RS256', 'the default ID token algorithm is RS256');
  assert.equal(typeof protectedHeader.kid, 'string', 'the header names its key');
  if (nonce === undefined) assert.equal(payload.nonce, undefined);
  else assert.equal(payload.nonce, nonce, 'the nonce comes back');
  return payload;
}

/** A whole happy flow in `agent`: authorize, check state and iss, redeem, verify the ID token. */
export async function happyFlow(op: Op, agent: UserAgent, params: Record<string, string> = {}) {
  const url = authorizationUrl(op, params);
  const result = await authorize(agent, url);
  assert.ok(result.callback, `back at the client: ${result.html.slice(0, 300)}`);
  const callback = result.callback;
  assert.equal(callback.searchParams.get('error'), null, callback.search);
  assert.equal(callback.searchParams.get('state'), url.searchParams.get('state'));
  assert.equal(callback.searchParams.get('iss'), op.discovery.issuer);
  const code = callback.searchParams.get('code');
  assert.ok(code, 'a code');
  const tokens = await redeemCode(op, code);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
  assert.equal(String(tokens.body.token_type).toLowerCase(), 'bearer');
  assert.equal(typeof tokens.body.access_token, 'string');
  const nonce = url.searchParams.get('nonce') ?? undefined;
  const idToken = await verifyIdToken(op, tokens.body.id_token, nonce);
  return { url, callback, code, tokens: tokens.body, idToken, loginShown: result.loginShown };
}

export async function userinfo(
  op: Op,
  accessToken: string,
  how: 'get' | 'post-header' | 'post-body' = 'get',
) {
  const response =
    how === 'get'
      ? await fetch(op.discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } })
      : how === 'post-header'
        ? await fetch(op.discovery.userinfo_endpoint, {
            method: 'POST',
            headers: { authorization: `Bearer ${accessToken}` },
          })
        : await fetch(op.discovery.userinfo_endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ access_token: accessToken }),
          });
  const text = await response.text();
  return {
    status: response.status,
    body: response.ok ? (JSON.parse(text) as Record<string, unknown>) : text,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Lock serving HTTPS itself (a self-signed certificate for 127.0.0.1), as the discovery modules need. */
export async function startTlsOp(extraClientLines: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), 'lock-conformance-tls-'));
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  const ca = await readFile(join(dir, 'cert.pem'));
  const lock = await startLock({
    config: opConfig(extraClientLines),
    env: { LOCK_TLS_CERT: join(dir, 'cert.pem'), LOCK_TLS_KEY: join(dir, 'key.pem') },
  });
  /** GET over HTTPS trusting the certificate (node's fetch cannot take a CA). */
  const get = (url: string) =>
    new Promise<{ status: number; contentType: string; body: string }>((resolve, reject) => {
      httpsGet(url, { ca }, (response) => {
        let body = '';
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            contentType: String(response.headers['content-type']),
            body,
          }),
        );
      }).on('error', reject);
    });
  return { lock, get };
}

/**
 * The browser at the end_session_endpoint with `params`. Lock asks "Sign out of Lock?" (a form
 * with a one-time xsrf); `confirm()` presses "Sign out" and follows where Lock sends the browser.
 */
export async function endSession(op: Op, agent: UserAgent, params: Record<string, string>) {
  const url = new URL(op.discovery.end_session_endpoint);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const page = await agent.follow(url.toString());
  const html = page.left ? '' : await page.response.text();
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
  return {
    left: page.left,
    status: page.response.status,
    html,
    asksToConfirm: action !== undefined && xsrf !== undefined,
    async confirm() {
      assert.ok(action && xsrf, `a sign-out confirmation: ${html.slice(0, 300)}`);
      const done = await agent.follow(new URL(action.replaceAll('&amp;', '&'), page.url).toString(), {
        form: { xsrf, logout: 'yes' },
      });
      return {
        left: done.left,
        status: done.response.status,
        html: done.left ? '' : await done.response.text(),
      };
    },
  };
}

/** After logout, prompt=none must fail with an error that needs the user (login_required…). */
export async function assertLoggedOut(op: Op, agent: UserAgent) {
  const url = authorizationUrl(op, { prompt: 'none' });
  const { callback } = await authorize(agent, url);
  assert.ok(callback, 'prompt=none comes back to the client');
  assert.ok(
    ['login_required', 'interaction_required', 'consent_required', 'account_selection_required'].includes(
      callback.searchParams.get('error') ?? '',
    ),
    `an error needing the user: ${callback.search}`,
  );
}

/** Still signed in: prompt=none returns a code. */
export async function assertStillLoggedIn(op: Op, agent: UserAgent) {
  const { callback } = await authorize(agent, authorizationUrl(op, { prompt: 'none' }));
  assert.ok(callback?.searchParams.get('code'), `still signed in: ${callback?.search}`);
}
