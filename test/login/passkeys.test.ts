import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PasskeyOwner, PasskeyRegistration } from '../../src/login/passkey-registration.ts';
import { relyingPartyOf } from '../../src/login/webauthn.ts';
import { findUserByUsername } from '../../src/store/users.ts';
import { ADMIN_PASSWORD, adminApi, consoleToken } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  BOB_PASSWORD,
  CALLBACK,
  loginConfig,
  payrollClient,
  WEB_SECRET,
} from '../helpers/login-fixtures.ts';
import { type AuthorizationRequest, redeem, startAuthorization } from '../helpers/relying-party.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';
import { SoftwareAuthenticator } from '../helpers/webauthn.ts';

// loginConfig, plus a client that requires a passkey, and dave (no passkey, app_readonly).
const config = loginConfig
  .replace(
    'clients:\n',
    `clients:
${payrollClient}  - clientId: vault
    clientSecret: ${WEB_SECRET}
    firstParty: true
    requirePasskey: true
    redirectUris: [${CALLBACK}]
    resources: [${API}]
`,
  )
  .replace(
    'users:\n',
    `users:
  - { username: dave, password: "${BOB_PASSWORD}", roles: [app_readonly] }
  - { username: erin, password: "${BOB_PASSWORD}", roles: [app_readonly] }
`,
  );

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

interface PasskeyPage {
  agent: UserAgent;
  request: AuthorizationRequest;
  html: string;
  url: string;
  csrf: string;
  optionsUrl: string;
  verifyUrl: string;
}

describe('passkeys: sign-in (software authenticator, real HTTP and PostgreSQL)', () => {
  let lock: RunningLock;
  let registration: PasskeyRegistration;
  const authenticators = new Map<string, SoftwareAuthenticator>();

  /** Registers a passkey for `username` through the registration ceremony (what /account does). */
  async function enrol(username: string, options: { synced?: boolean } = {}) {
    const user = (await findUserByUsername(lock.database.pool, username))!;
    const account: PasskeyOwner = {
      userId: user.id,
      username,
      sub: `sub-of-${username}`,
      session: `test-session-${username}`,
      ip: '127.0.0.1',
      userAgent: 'test',
      requestId: 'test',
    };
    const authenticator = new SoftwareAuthenticator(lock.issuer, options);
    const outcome = await registration.register(account, {
      name: `${username}'s laptop`,
      response: authenticator.register(await registration.options(account)),
    });
    assert.equal(outcome.status, 'added', JSON.stringify(outcome));
    authenticators.set(username, authenticator);
    return { authenticator, account, passkey: outcome.status === 'added' ? outcome.passkey : undefined! };
  }

  /** The endpoints and CSRF token a page names for its passkey script. */
  function passkeyData(html: string) {
    const attribute = (name: string) =>
      new RegExp(`data-${name}="([^"]+)"`).exec(html)?.[1]?.replaceAll('&amp;', '&');
    const optionsUrl = attribute('options-url');
    const verifyUrl = attribute('verify-url');
    // The login page's script takes the login form's token; the second step names its own.
    const csrf = attribute('csrf') ?? /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(optionsUrl && verifyUrl && csrf, `no passkey offer in the page:\n${html.slice(-1500)}`);
    return { optionsUrl, verifyUrl, csrf };
  }

  async function loginPage(clientId = 'web-app'): Promise<PasskeyPage> {
    const request = await startAuthorization(
      lock.issuer,
      { id: clientId, secret: WEB_SECRET },
      // payroll (loginConfig's requireMfa client) is for no API.
      { redirect_uri: CALLBACK, scope: 'openid profile', ...(clientId !== 'payroll' && { resource: API }) },
    );
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(request.url.toString());
    const html = await page.response.text();
    return { agent, request, html, url: page.url!, ...passkeyData(html) };
  }

  async function call(agent: UserAgent, path: string, json: unknown) {
    const response = await agent.request(new URL(path, lock.issuer).toString(), { json });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown> & { location?: string },
    };
  }

  /** Follows a signed-in answer's location to the client and redeems the code. */
  async function tokensAt(page: { agent: UserAgent; request: AuthorizationRequest }, location: string) {
    const landed = await page.agent.follow(new URL(location, lock.issuer).toString());
    assert.ok(landed.left, `did not reach the client: ${landed.response.status}`);
    return redeem(page.request, new URL(landed.left));
  }

  /** Password first; returns the page of the step that follows (or where it went). */
  async function afterPassword(page: PasskeyPage, username: string, password: string) {
    const form = readLoginForm(page.html);
    const submitted = await page.agent.follow(new URL(form.action, page.url).toString(), {
      form: { csrf: form.csrf, username, password },
    });
    return { ...submitted, html: submitted.left ? '' : await submitted.response.text() };
  }

  const auditReasons = async (type: string, outcome: string) =>
    (
      await lock.database.pool.query<{ reason: string | null }>(
        'SELECT reason FROM audit_events WHERE type = $1 AND outcome = $2 ORDER BY id',
        [type, outcome],
      )
    ).rows.map((row) => row.reason);

  before(async () => {
    lock = await startLock({ config });
    registration = new PasskeyRegistration({
      pool: lock.database.pool,
      rp: relyingPartyOf(lock.issuer),
      aaguidAllowlist: [],
      now: () => new Date(),
    });
    await enrol('alice');
    await enrol('bob', { synced: true });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('offers the passkey on the login page: a button, the username autofill, scripts from /assets only', async () => {
    const page = await loginPage();
    assert.match(page.html, /Sign in with a passkey/);
    assert.match(page.html, /autocomplete="username webauthn"/);
    assert.match(page.html, /<script src="\/assets\/simplewebauthn-browser.js" defer><\/script>/);
    assert.doesNotMatch(page.html, /<script>/);
    const response = await page.agent.request(page.url);
    const csp = response.headers.get('content-security-policy')!;
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const script = await fetch(`${lock.issuer}/assets/simplewebauthn-browser.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /SimpleWebAuthnBrowser/);
  });

  it('signs in passwordless with a device-bound passkey: amr hwk + user in the ID and access tokens', async () => {
    const page = await loginPage();
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    assert.equal(options.status, 200);
    assert.equal(options.body.userVerification, 'required');
    assert.equal(options.body.rpId, new URL(lock.issuer).hostname);
    const assertion = authenticators.get('alice')!.assert(options.body as never);
    const verified = await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    const tokens = await tokensAt(page, verified.body.location!);
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'user']);
    assert.equal(tokens.claims()!.preferred_username, 'alice');
    assert.deepEqual(claimsOf(tokens.access_token).amr, ['hwk', 'user']);
  });

  it('says swk for a synced (backup-eligible) passkey', async () => {
    const page = await loginPage();
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    const assertion = authenticators.get('bob')!.assert(options.body as never);
    const verified = await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion });
    assert.equal(verified.status, 200);
    assert.deepEqual((await tokensAt(page, verified.body.location!)).claims()!.amr, ['swk', 'user']);
  });

  it('signs in with password + passkey: the step offers the passkey, amr pwd hwk user mfa', async () => {
    const page = await loginPage();
    const step = await afterPassword(page, 'alice', ALICE_PASSWORD);
    assert.match(step.url!, /\/totp$/);
    assert.match(step.html, /Use a passkey/);
    // alice has no authenticator app: no code field.
    assert.doesNotMatch(step.html, /name="code"/);
    const data = passkeyData(step.html);
    const options = await call(page.agent, data.optionsUrl, { csrf: data.csrf });
    assert.equal(options.status, 200);
    assert.deepEqual(
      (options.body.allowCredentials as Array<{ id: string }>).map((allow) => allow.id),
      authenticators.get('alice')!.credentials.map((credential) => credential.id),
    );
    const assertion = authenticators.get('alice')!.assert(options.body as never);
    const verified = await call(page.agent, data.verifyUrl, { csrf: data.csrf, response: assertion });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    const tokens = await tokensAt(page, verified.body.location!);
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk', 'user', 'mfa']);
    assert.deepEqual(claimsOf(tokens.access_token).amr, ['pwd', 'hwk', 'user', 'mfa']);
  });

  it("refuses another account's passkey in the second step", async () => {
    const page = await loginPage();
    const step = await afterPassword(page, 'alice', ALICE_PASSWORD);
    const data = passkeyData(step.html);
    const options = await call(page.agent, data.optionsUrl, { csrf: data.csrf });
    // bob's authenticator signs alice's step's challenge with bob's key.
    const bob = authenticators.get('bob')!;
    const assertion = bob.assert(options.body as never, { credentialId: bob.credentials[0]!.id });
    const verified = await call(page.agent, data.verifyUrl, { csrf: data.csrf, response: assertion });
    assert.equal(verified.status, 401);
    assert.equal(verified.body.location, undefined);
    assert.ok(
      (await auditReasons('login.passkey', 'failure')).some((reason) => /another account/.test(reason ?? '')),
    );
  });

  it('refuses a replayed assertion: in the same sign-in, in a new one, and 40 concurrent copies pass once', async () => {
    const first = await loginPage();
    const options = await call(first.agent, first.optionsUrl, { csrf: first.csrf });
    const assertion = authenticators.get('alice')!.assert(options.body as never);
    const results = await Promise.all(
      Array.from({ length: 40 }, () =>
        call(first.agent, first.verifyUrl, { csrf: first.csrf, response: assertion }),
      ),
    );
    // The interaction's cap (10 attempts) answers the rest 429 once reached: none of them signs in.
    assert.equal(
      results.filter((result) => result.status === 200).length,
      1,
      'exactly one of 40 copies signs in',
    );
    assert.ok(results.every((result) => [200, 401, 429].includes(result.status)));
    // The captured assertion, in another sign-in: its challenge belongs to the first.
    const second = await loginPage();
    await call(second.agent, second.optionsUrl, { csrf: second.csrf });
    const replayed = await call(second.agent, second.verifyUrl, { csrf: second.csrf, response: assertion });
    assert.equal(replayed.status, 401);
    assert.ok(
      (await auditReasons('login.passkey', 'failure')).includes('unknown, spent or expired challenge'),
    );
  });

  it('refuses an assertion made for another origin or another RP ID', async () => {
    for (const overrides of [{ origin: 'https://evil.example' }, { rpId: 'evil.example' }]) {
      const page = await loginPage();
      const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
      const assertion = authenticators.get('alice')!.assert(options.body as never, overrides);
      const verified = await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion });
      assert.equal(verified.status, 401, JSON.stringify(overrides));
    }
    const reasons = await auditReasons('login.passkey', 'failure');
    assert.ok(
      reasons.some((reason) => /origin/.test(reason ?? '')),
      'origin refusal audited',
    );
    assert.ok(
      reasons.some((reason) => /RP ID/i.test(reason ?? '')),
      'RP ID refusal audited',
    );
  });

  it('refuses an assertion without user verification', async () => {
    const page = await loginPage();
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    const assertion = authenticators.get('alice')!.assert(options.body as never, { userVerified: false });
    assert.equal(
      (await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion })).status,
      401,
    );
  });

  it('refuses a counter that goes backwards (a cloned authenticator), and audits it', async () => {
    const page = await loginPage();
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    const alice = authenticators.get('alice')!;
    const assertion = alice.assert(options.body as never, { counter: 1 });
    const verified = await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion });
    assert.equal(verified.status, 401);
    assert.ok(
      (await auditReasons('login.passkey', 'failure')).some((reason) =>
        /sign count went backwards/.test(reason ?? ''),
      ),
    );
    alice.credentials[0]!.counter = 1000; // the genuine authenticator goes on counting
  });

  it('refuses a body that is not an assertion with a 400 naming the field', async () => {
    const page = await loginPage();
    const verified = await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: { id: 'x' } });
    assert.equal(verified.status, 400);
    assert.match(String(verified.body.message), /^response\./);
    const forged = await call(page.agent, page.verifyUrl, { csrf: 'forged', response: {} });
    assert.equal(forged.status, 403);
  });

  it('caps the assertions of one sign-in as it caps its password posts', async () => {
    const page = await loginPage();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
      const assertion = authenticators
        .get('alice')!
        .assert(options.body as never, { origin: 'https://evil.example' });
      statuses.push(
        (await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion })).status,
      );
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
  });

  it('requirePasskey: the step after the password takes only a passkey; no passkey, no sign-in', async () => {
    const page = await loginPage('vault');
    const step = await afterPassword(page, 'alice', ALICE_PASSWORD);
    assert.match(step.url!, /\/totp$/);
    assert.doesNotMatch(step.html, /name="code"/);
    const data = passkeyData(step.html);
    const options = await call(page.agent, data.optionsUrl, { csrf: data.csrf });
    const assertion = authenticators.get('alice')!.assert(options.body as never);
    const verified = await call(page.agent, data.verifyUrl, { csrf: data.csrf, response: assertion });
    assert.equal(verified.status, 200);
    assert.deepEqual((await tokensAt(page, verified.body.location!)).claims()!.amr, [
      'pwd',
      'hwk',
      'user',
      'mfa',
    ]);

    const refused = await afterPassword(await loginPage('vault'), 'dave', BOB_PASSWORD);
    assert.equal(refused.response.status, 403);
    assert.match(refused.html, /requires you to sign in with a passkey/);
  });

  it('requirePasskey: a session without a passkey is asked to sign in again', async () => {
    // erin signs in with her password to web-app, then goes to vault in the same browser.
    const first = await loginPage();
    const signedIn = await afterPassword(first, 'erin', BOB_PASSWORD);
    assert.ok(signedIn.left, 'erin signed in to web-app with a password');
    const vault = await startAuthorization(
      lock.issuer,
      { id: 'vault', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid', resource: API },
    );
    const again = await first.agent.follow(vault.url.toString());
    assert.equal(again.left, undefined, 'no code without a passkey');
    assert.match(await again.response.text(), /Sign in with a passkey/);
  });

  it('a passkey alone satisfies a client that requires a second factor (requireMfa)', async () => {
    const page = await loginPage('payroll');
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    const assertion = authenticators.get('bob')!.assert(options.body as never);
    const verified = await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion });
    assert.equal(verified.status, 200);
    assert.deepEqual((await tokensAt(page, verified.body.location!)).claims()!.amr, ['swk', 'user']);
  });

  it("refuses a disabled account's passkey", async () => {
    const { authenticator } = await enrol('carol');
    const page = await loginPage();
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    const verified = await call(page.agent, page.verifyUrl, {
      csrf: page.csrf,
      response: authenticator.assert(options.body as never),
    });
    assert.equal(verified.status, 401);
    assert.ok((await auditReasons('login.passkey', 'failure')).includes('account disabled or removed'));
  });

  it('refuses a removed passkey', async () => {
    const { authenticator, account, passkey } = await enrol('dave');
    assert.equal(await registration.remove(account, passkey.id), true);
    const page = await loginPage();
    const options = await call(page.agent, page.optionsUrl, { csrf: page.csrf });
    const assertion = authenticator.assert(options.body as never);
    assert.equal(
      (await call(page.agent, page.verifyUrl, { csrf: page.csrf, response: assertion })).status,
      401,
    );
    assert.ok(
      (await auditReasons('login.passkey', 'failure')).includes('no such passkey (unknown or removed)'),
    );
    assert.deepEqual(await auditReasons('account.passkey.removed', 'success'), [null]);
  });
});

describe('passkeys: LOCK_PASSKEY_REQUIRED_ROLES and LOCK_PASSKEY_AAGUIDS', () => {
  let lock: RunningLock;
  const ALLOWED = '11111111-2222-3333-4444-555555555555';
  before(async () => {
    lock = await startLock({
      config: loginConfig,
      env: {
        LOCK_PASSKEY_REQUIRED_ROLES: 'app_admin',
        LOCK_PASSKEY_AAGUIDS: ALLOWED.toUpperCase(),
        LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const registrationFor = (aaguidAllowlist: string[]) =>
    new PasskeyRegistration({
      pool: lock.database.pool,
      rp: relyingPartyOf(lock.issuer),
      aaguidAllowlist,
      now: () => new Date(),
    });

  async function ownerOf(username: string): Promise<PasskeyOwner> {
    const user = (await findUserByUsername(lock.database.pool, username))!;
    return {
      userId: user.id,
      username,
      sub: username,
      session: `s-${username}`,
      ip: '127.0.0.1',
      userAgent: 'test',
      requestId: 't',
    };
  }

  it('registers only the allowed authenticator models, asking for direct attestation', async () => {
    const registration = registrationFor([ALLOWED]);
    const owner = await ownerOf('bob');
    const options = await registration.options(owner);
    assert.equal(options.attestation, 'direct');
    const other = new SoftwareAuthenticator(lock.issuer, { aaguid: '99999999-2222-3333-4444-555555555555' });
    const refused = await registration.register(owner, { name: 'Other', response: other.register(options) });
    assert.equal(refused.status, 'refused');
    const allowed = new SoftwareAuthenticator(lock.issuer, { aaguid: ALLOWED });
    const added = await registration.register(owner, {
      name: 'Allowed',
      response: allowed.register(await registration.options(owner)),
    });
    assert.equal(added.status, 'added');
    const reasons = (
      await lock.database.pool.query<{ reason: string }>(
        "SELECT reason FROM audit_events WHERE type = 'account.passkey.added' AND outcome = 'failure'",
      )
    ).rows.map((row) => row.reason);
    assert.deepEqual(reasons, [
      'authenticator model 99999999-2222-3333-4444-555555555555 is not in LOCK_PASSKEY_AAGUIDS',
    ]);
  });

  it('an account holding a role that requires a passkey cannot finish with its password alone', async () => {
    // alice holds app_admin and has no passkey: her right password is not enough anywhere.
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid', resource: API },
    );
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(request.url.toString());
    const form = readLoginForm(await page.response.text());
    const refused = await agent.follow(new URL(form.action, page.url).toString(), {
      form: { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD },
    });
    assert.equal(refused.left, undefined);
    assert.equal(refused.response.status, 403);
    assert.match(await refused.response.text(), /requires you to sign in with a passkey/);

    // With a passkey (any model, registered without the allowlist), she finishes with it.
    const registration = registrationFor([]);
    const owner = await ownerOf('alice');
    const authenticator = new SoftwareAuthenticator(lock.issuer);
    await registration.register(owner, {
      name: 'Key',
      response: authenticator.register(await registration.options(owner)),
    });
    const again = await agent.follow(request.url.toString());
    const second = readLoginForm(await again.response.text());
    const step = await agent.follow(new URL(second.action, again.url).toString(), {
      form: { csrf: second.csrf, username: 'alice', password: ALICE_PASSWORD },
    });
    const html = await step.response.text();
    assert.doesNotMatch(html, /name="code"/, 'no code is taken');
    const optionsUrl = /data-options-url="([^"]+)"/.exec(html)![1]!;
    const verifyUrl = /data-verify-url="([^"]+)"/.exec(html)![1]!;
    const csrf = /data-csrf="([^"]+)"/.exec(html)![1]!;
    const options = await agent.request(new URL(optionsUrl, lock.issuer).toString(), { json: { csrf } });
    const assertion = authenticator.assert((await options.json()) as never);
    const verified = await agent.request(new URL(verifyUrl, lock.issuer).toString(), {
      json: { csrf, response: assertion },
    });
    assert.equal(verified.status, 200);
    const { location } = (await verified.json()) as { location: string };
    const landed = await agent.follow(new URL(location, lock.issuer).toString());
    const tokens = await redeem(request, new URL(landed.left!));
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk', 'user', 'mfa']);
  });

  it("the admin API sets and shows a client's requirePasskey (its OpenAPI schema checks the answer)", async () => {
    const api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    const created = await api('POST', '/clients', {
      body: {
        clientId: 'strict-app',
        redirectUris: [CALLBACK],
        requirePasskey: true,
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.requirePasskey, true);
    const read = await api('GET', '/clients/strict-app');
    assert.equal(read.body.requirePasskey, true);
    const invalid = await api('POST', '/clients', {
      body: {
        clientId: 'bad-app',
        redirectUris: [CALLBACK],
        requirePasskey: 'yes',
      },
    });
    assert.equal(invalid.status, 422, invalid.text);
    assert.match(invalid.text, /requirePasskey/);
  });
});

describe('passkeys: the login rate limit', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({
      config: loginConfig,
      env: { LOCK_RATE_LIMIT_LOGIN: '2', LOCK_RATE_LIMIT_WINDOW: '3600' },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('counts passkey assertions (first and second factor) per address, as password posts', async () => {
    const agent = new UserAgent(lock.issuer);
    const page = await agent.follow(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(CALLBACK)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
    );
    const uid = /\/interaction\/([\w-]+)/.exec(page.url!)![1]!;
    const statuses: number[] = [];
    for (const path of ['passkey/verify', 'totp/passkey/verify', 'passkey/verify', 'totp/passkey/verify'])
      statuses.push((await agent.request(`${lock.issuer}/interaction/${uid}/${path}`, { json: {} })).status);
    assert.deepEqual(statuses.slice(2), [429, 429], `statuses: ${statuses.join(', ')}`);
    // Options are not attempts: they stay available.
    const options = await agent.request(`${lock.issuer}/interaction/${uid}/passkey/options`, { json: {} });
    assert.notEqual(options.status, 429);
  });
});
