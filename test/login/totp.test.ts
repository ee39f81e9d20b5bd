import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { matchingTotpSteps } from '../../src/security/totp.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  BOB_PASSWORD,
  CALLBACK,
  loginConfig,
  WEB_SECRET,
} from '../helpers/login-fixtures.ts';
import { enrolmentSecret, recoveryCodesOf, totpCode } from '../helpers/second-factor.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

const run = promisify(execFile);

describe('TOTP second factor for local accounts', () => {
  let lock: RunningLock;
  let web: oidc.Configuration;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  // Ten seconds into a 30-second step, so that "the same step" below cannot straddle a boundary.
  let clock = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
  const now = () => new Date(clock);
  const nextStep = () => {
    clock += 30_000;
  };
  /** What alice's app would show; filled in by the enrolment test, which the others follow. */
  let secret = '';
  let recoveryCodes: string[] = [];

  before(async () => {
    lock = await startLock({
      config: loginConfig,
      now,
      env: { LOCK_MFA_REQUIRED_ROLES: 'app_admin, other' },
    });
    web = await oidc.discovery(new URL(lock.issuer), 'web-app', WEB_SECRET, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** Starts a sign-in of web-app and submits the password; returns the page that follows and how to go on. */
  const signInWithPassword = async (username: string, password: string) => {
    const agent = new UserAgent(lock.issuer);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(web, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      resource: API,
    });
    const login = await agent.follow(url.toString());
    const form = readLoginForm(await login.response.text());
    const page = await agent.follow(new URL(form.action, login.url).toString(), {
      form: { csrf: form.csrf, username, password },
    });
    /** Submits the one form of the current page (with `fields`), and moves the "current page" on. */
    let current = { ...page, html: page.left ? '' : await page.response.text() };
    const submit = async (fields: Record<string, string> = {}) => {
      const { action, csrf } = readLoginForm(current.html);
      const next = await agent.follow(new URL(action, current.url).toString(), { form: { csrf, ...fields } });
      current = { ...next, html: next.left ? '' : await next.response.text() };
      return current;
    };
    const tokens = async () => {
      assert.ok(current.left?.startsWith(`${CALLBACK}?code=`), `landed on ${current.left}`);
      const result = await oidc.authorizationCodeGrant(web, new URL(current.left!), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const access = await jwtVerify(result.access_token, jwks, {
        issuer: lock.issuer,
        audience: API,
        typ: 'at+jwt',
      });
      return { id: result.claims()!, access: access.payload };
    };
    return { page: current, submit, tokens };
  };

  const failuresOf = async (username: string): Promise<number> => {
    const { rows } = await lock.database.pool.query('SELECT failures FROM login_failures WHERE key = $1', [
      `account:${username}`,
    ]);
    return rows[0]?.failures ?? 0;
  };
  const auditOf = async (type: string) =>
    (
      await lock.database.pool.query(
        `SELECT outcome, reason, details FROM audit_events WHERE type = $1 AND subject = 'alice' ORDER BY id`,
        [type],
      )
    ).rows;

  it("Lock's TOTP matches RFC 6238's test vector (T = 59 s, SHA-1) and the window is one step", () => {
    const base32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // the ASCII key "12345678901234567890"
    assert.equal(totpCode(base32, 59_000), '287082', 'the test helper is RFC 6238 (94287082, 6 digits)');
    assert.deepEqual(matchingTotpSteps(base32, '287082', new Date(59_000)), [1]);
    assert.deepEqual(matchingTotpSteps(base32, '287082', new Date(59_000 + 30_000)), [1], 'one step late');
    assert.deepEqual(matchingTotpSteps(base32, '287082', new Date(59_000 + 60_000)), [], 'two steps late');
  });

  it('a role that requires TOTP enrols the account during sign-in: QR code, key, confirmation, recovery codes', async () => {
    const signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    const { html } = signIn.page;
    assert.match(html, /Set up two-step sign-in/);
    assert.equal(signIn.page.response.status, 200);
    assert.match(signIn.page.response.headers.get('content-security-policy')!, /img-src 'self' data:/);

    secret = enrolmentSecret(html);
    assert.match(secret, /^[A-Z2-7]{32}$/, '160 bits in base32');
    const qr = /<img class="totp-qr" src="data:image\/svg\+xml;base64,([^"]+)"/.exec(html)![1]!;
    assert.match(Buffer.from(qr, 'base64').toString('utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
    const uri = new URL(/href="(otpauth:\/\/[^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&'));
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Lock:alice');
    assert.equal(uri.searchParams.get('issuer'), 'Lock');
    assert.equal(uri.searchParams.get('secret'), secret);

    const wrong = totpCode(secret, clock) === '000000' ? '111111' : '000000';
    let page = await signIn.submit({ code: wrong });
    assert.equal(page.response.status, 400);
    assert.match(page.html, /That code is not right/);
    assert.match(page.html, /Set up two-step sign-in/, 'still enrolling, with the same key');
    assert.ok(page.html.includes(secret.slice(0, 4)));
    assert.equal(await failuresOf('alice'), 0, 'a typo while enrolling is not a brute-force failure');

    page = await signIn.submit({ code: totpCode(secret, clock) });
    assert.match(page.html, /Save your recovery codes/);
    recoveryCodes = recoveryCodesOf(page.html);
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);

    page = await signIn.submit();
    const { id, access } = await signIn.tokens();
    assert.deepEqual(id.amr, ['pwd', 'otp']);
    assert.deepEqual(access.amr, ['pwd', 'otp']);

    // At rest: the key sealed under the KEK, bound to the account; recovery codes only as hashes.
    const { rows } = await lock.database.pool.query(
      `SELECT c.secret_sealed, u.id, (SELECT array_agg(code_hash) FROM totp_recovery_codes r WHERE r.user_id = u.id) AS hashes
       FROM totp_credentials c JOIN users u ON u.id = c.user_id WHERE u.username = 'alice'`,
    );
    const stored = rows[0];
    assert.ok(!stored.secret_sealed.includes(secret));
    assert.equal(lock.lock.box.open(stored.secret_sealed, `totp:${stored.id}`), secret);
    assert.throws(() => lock.lock.box.open(stored.secret_sealed, 'totp:someone-else'));
    assert.equal(stored.hashes.length, 10);
    for (const code of recoveryCodes) assert.ok(!stored.hashes.some((hash: string) => hash.includes(code)));
    assert.deepEqual(
      (await auditOf('login.totp_enrol')).map((row) => row.outcome),
      ['failure', 'success'],
    );
  });

  it('an enrolled account is asked for a code; the same code is refused the second time', async () => {
    // The code that confirmed the enrolment is spent: its step may not sign in again.
    let signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    assert.match(signIn.page.html, /Enter your code/);
    let page = await signIn.submit({ code: totpCode(secret, clock) });
    assert.equal(page.response.status, 401);
    assert.match(page.html, /That code is not right/);
    assert.equal(await failuresOf('alice'), 1, 'a refused code counts as a failed sign-in');

    nextStep();
    const code = totpCode(secret, clock);
    page = await signIn.submit({ code: `${code.slice(0, 3)} ${code.slice(3)}` }); // as apps show it
    const { id, access } = await signIn.tokens();
    assert.deepEqual(id.amr, ['pwd', 'otp']);
    assert.deepEqual(access.amr, ['pwd', 'otp']);
    assert.equal(await failuresOf('alice'), 0, 'a full sign-in forgets the failures');

    signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    page = await signIn.submit({ code });
    assert.equal(page.response.status, 401, 'replay of the code just used');
    page = await signIn.submit({ code: totpCode(secret, clock, -1) });
    assert.equal(page.response.status, 401, 'a code of an earlier step, though inside the window');
    assert.match(page.html, /That code is not right/);

    const reasons = (await auditOf('login.totp')).map((row) => `${row.outcome}: ${row.reason ?? ''}`);
    assert.deepEqual(reasons, [
      'failure: code of an already used time step (replay)',
      'success: ',
      'failure: code of an already used time step (replay)',
      'failure: code of an already used time step (replay)',
    ]);
  });

  it('a wrong code is refused and counted; a right password does not clear the count; five end the step', async () => {
    nextStep();
    const valid = new Set([-1, 0, 1].map((offset) => totpCode(secret, clock, offset)));
    const wrong = ['123456', '654321', '111111', '222222', '333333', '444444', '555555', '777777']
      .filter((code) => !valid.has(code))
      .slice(0, 6);
    const before = await failuresOf('alice');
    let signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    let page = await signIn.submit({ code: wrong[0]! });
    assert.equal(page.response.status, 401);
    assert.match(page.html, /That code is not right/);
    assert.equal(await failuresOf('alice'), before + 1);

    signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    assert.match(signIn.page.html, /Enter your code/);
    assert.equal(await failuresOf('alice'), before + 1, 'the password alone is not a successful sign-in');
    for (const code of wrong.slice(1, 5)) {
      page = await signIn.submit({ code });
      assert.match(page.html, /Enter your code/);
    }
    page = await signIn.submit({ code: wrong[5]! });
    assert.match(page.html, /Too many incorrect codes\. Sign in again\./);
    assert.match(page.html, /name="password"/, 'back to the password form');
    assert.equal(await failuresOf('alice'), before + 6);
    const last = (await auditOf('login.totp')).at(-1)!;
    assert.deepEqual([last.outcome, last.reason], ['failure', 'wrong code']);

    page = await signIn.submit({ username: 'alice', password: ALICE_PASSWORD });
    page = await signIn.submit({ code: totpCode(secret, clock) });
    assert.deepEqual((await signIn.tokens()).id.amr, ['pwd', 'otp']);
  });

  it('a recovery code signs in exactly once', async () => {
    const [first] = recoveryCodes;
    let signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    await signIn.submit({ code: first!.toUpperCase().replaceAll('-', ' ') }); // case and separators ignored
    const { id, access } = await signIn.tokens();
    assert.deepEqual(id.amr, ['pwd', 'otp']);
    assert.deepEqual(access.amr, ['pwd', 'otp']);
    const used = (await auditOf('login.totp')).at(-1)!;
    assert.deepEqual(used.details, { method: 'recovery_code', recoveryCodesLeft: 9 });

    signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    const page = await signIn.submit({ code: first! });
    assert.equal(page.response.status, 401);
    assert.match(page.html, /That code is not right/);
    assert.equal((await auditOf('login.totp')).at(-1)!.reason, 'unknown or already used recovery code');
  });

  it('an account neither enrolled nor holding a required role signs in with its password alone', async () => {
    const signIn = await signInWithPassword('bob', BOB_PASSWORD);
    const { id, access } = await signIn.tokens();
    assert.deepEqual(id.amr, ['pwd']);
    assert.deepEqual(access.amr, ['pwd']);
  });

  it('`lock users totp-reset` forgets the authenticator: the next sign-in enrols again', async () => {
    const { stdout } = await run(process.execPath, ['src/cli/lock.ts', 'users', 'totp-reset', 'alice'], {
      env: { ...process.env, DATABASE_URL: lock.database.url, LOCK_KEYS_DIR: lock.keysDir },
    });
    assert.match(stdout, /removed the authenticator and recovery codes of alice/);
    const { rows } = await lock.database.pool.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE type = 'admin.user.totp_reset' AND subject = 'alice'",
    );
    assert.equal(rows[0].n, 1);

    const signIn = await signInWithPassword('alice', ALICE_PASSWORD);
    assert.match(signIn.page.html, /Set up two-step sign-in/);
    const fresh = enrolmentSecret(signIn.page.html);
    assert.notEqual(fresh, secret, 'a new key');
    const left = await lock.database.pool.query(
      "SELECT count(*)::int AS n FROM totp_recovery_codes r JOIN users u ON u.id = r.user_id WHERE u.username = 'alice'",
    );
    assert.equal(left.rows[0].n, 0, 'the old recovery codes are gone with it');
  });
});
