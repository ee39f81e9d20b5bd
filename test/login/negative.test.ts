import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  CALLBACK,
  CLI_CALLBACK,
  loginConfig,
  signIn,
  WEB_SECRET,
} from '../helpers/login-fixtures.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

// After the OpenID Basic OP conformance plan: what a misbehaving client or user must not get.
describe('authorization code: refusals', () => {
  let lock: RunningLock;

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const authUrl = (params: Record<string, string>) => {
    const url = new URL(`${lock.issuer}/auth`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      scope: 'openid',
      state: 'st-1',
      ...params,
    }))
      url.searchParams.set(name, value);
    return url.toString();
  };
  const webAuth = async (extra: Record<string, string> = {}) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = authUrl({
      client_id: 'web-app',
      redirect_uri: CALLBACK,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: API,
      ...extra,
    });
    return { url, verifier };
  };
  const codeFrom = (landed: string) => new URL(landed).searchParams.get('code')!;
  const exchange = (code: string, verifier: string, clientId = 'web-app') =>
    postForm(
      `${lock.issuer}/token`,
      { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier },
      [clientId, WEB_SECRET],
    );

  it('a code used twice is refused, and the tokens of its first use are revoked', async () => {
    const request = await webAuth();
    const { landed } = await signIn(new UserAgent(lock.issuer), request.url, 'alice', ALICE_PASSWORD);
    const code = codeFrom(landed!);
    const first = await exchange(code, request.verifier);
    assert.equal(first.status, 200);
    const second = await exchange(code, request.verifier);
    assert.equal(second.body.error, 'invalid_grant');
    const refresh = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token as string },
      ['web-app', WEB_SECRET],
    );
    assert.equal(refresh.body.error, 'invalid_grant', 'the refresh token from the first use no longer works');
  });

  it('an unregistered redirect URI gets an error page, never a redirect', async () => {
    const response = await fetch(
      authUrl({ client_id: 'web-app', redirect_uri: 'https://evil.example.com/cb' }),
      { redirect: 'manual' },
    );
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
    const page = await response.text();
    // Plain words for the person; oidc-provider's text and the address sent only in the folded
    // developer detail, as text: never a link, never outside <details>.
    assert.match(page, /sent you here with an address Lock doesn’t know/);
    const [outside, details = ''] = page.split('<details class="developer-details">');
    assert.match(details, /redirect_uri did not match any of the client&#39;s registered redirect_uris/);
    assert.match(details, /<code>https:\/\/evil\.example\.com\/cb<\/code>/);
    assert.doesNotMatch(outside!, /evil\.example\.com/);
    assert.doesNotMatch(page, /href="https:\/\/evil/);
  });

  it('a public client without PKCE, or with plain, is refused', async () => {
    const base = { client_id: 'cli-tool', redirect_uri: CLI_CALLBACK };
    const missing = await fetch(authUrl(base), { redirect: 'manual' });
    const location = new URL(missing.headers.get('location')!);
    assert.equal(location.origin + location.pathname, CLI_CALLBACK);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description')!, /requires PKCE/);
    const plain = await fetch(
      authUrl({ ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }),
      { redirect: 'manual' },
    );
    assert.equal(new URL(plain.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  });

  it('a refresh token is refused to another client; a reused rotated one revokes the grant', async () => {
    const request = await webAuth();
    const { landed } = await signIn(new UserAgent(lock.issuer), request.url, 'alice', ALICE_PASSWORD);
    const tokens = await exchange(codeFrom(landed!), request.verifier);
    const original = tokens.body.refresh_token as string;
    const stolen = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: original },
      ['partner-app', WEB_SECRET],
    );
    assert.equal(stolen.body.error, 'invalid_grant');

    const rotated = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: original },
      ['web-app', WEB_SECRET],
    );
    assert.equal(rotated.status, 200);
    const replay = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: original },
      ['web-app', WEB_SECRET],
    );
    assert.equal(replay.body.error, 'invalid_grant');
    const newest = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'refresh_token', refresh_token: rotated.body.refresh_token as string },
      ['web-app', WEB_SECRET],
    );
    assert.equal(newest.body.error, 'invalid_grant', 'reuse detection revoked the whole grant');
  });

  it('prompt=none without a session answers login_required; an unknown parameter is ignored', async () => {
    const request = await webAuth({ prompt: 'none', some_unknown_parameter: 'x' });
    const response = await fetch(request.url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'login_required');
    assert.equal(location.searchParams.get('state'), 'st-1');

    const ignored = await webAuth({ some_unknown_parameter: 'x' });
    const { landed } = await signIn(new UserAgent(lock.issuer), ignored.url, 'alice', ALICE_PASSWORD);
    assert.ok(codeFrom(landed!));
  });

  it('a wrong password and an unknown user get the same page', async () => {
    const pageFor = async (username: string, password: string) => {
      const { url } = await webAuth();
      const result = await signIn(new UserAgent(lock.issuer), url, username, password);
      assert.equal(result.landed, undefined);
      // The page differs only in its per-interaction values and the echoed username.
      return {
        status: result.status,
        html: result.html
          .replaceAll(/interaction\/[\w-]+/g, 'interaction/UID')
          .replace(/value="[\w-]{43}"/, 'value="CSRF"')
          .replaceAll(username, 'USER'),
      };
    };
    const wrongPassword = await pageFor('alice', 'not alices password');
    const unknownUser = await pageFor('nobody-here', 'not alices password');
    assert.equal(wrongPassword.status, 401);
    assert.deepEqual(unknownUser, wrongPassword);
    assert.match(wrongPassword.html, /Incorrect username or password\./);
  });

  it('an empty password is refused before any check, and the form keeps the username', async () => {
    const { url } = await webAuth();
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(url);
    const form = readLoginForm(await page.response.text());
    const response = await agent.request(new URL(form.action, page.url!).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: '' },
    });
    assert.equal(response.status, 400);
    const html = await response.text();
    assert.match(html, /Enter your password\./);
    assert.match(html, /value="alice"/);
  });

  it('a form without the right CSRF token is refused', async () => {
    const { url } = await webAuth();
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(url);
    const form = readLoginForm(await page.response.text());
    const response = await agent.request(new URL(form.action, page.url!).toString(), {
      form: { csrf: 'forged', username: 'alice', password: ALICE_PASSWORD },
    });
    assert.equal(response.status, 403);
  });

  it('a disabled user cannot sign in', async () => {
    const { url } = await webAuth();
    const result = await signIn(new UserAgent(lock.issuer), url, 'carol', 'Tr0ub4dor&3-but-longer');
    assert.equal(result.landed, undefined);
    assert.match(result.html, /This account is disabled/);
    const wrong = await signIn(
      new UserAgent(lock.issuer),
      (await webAuth()).url,
      'carol',
      'a wrong password',
    );
    assert.match(
      wrong.html,
      /Incorrect username or password\./,
      'with a wrong password, a disabled account looks like any other',
    );
  });
});
