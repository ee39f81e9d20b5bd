import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLdap } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { BOB_PASSWORD, loginConfig, payrollClient } from '../helpers/login-fixtures.ts';
import { enrolmentSecret, totpCode } from '../helpers/second-factor.ts';
import { Browser, type Page } from './totp-flow.ts';

const DAVE_PASSWORD = 'dave signs in with a password only';

describe('step-up: a session without the second factor a client or a role requires', () => {
  const directory = openLdap();
  let lock: RunningLock;
  let clock = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;

  before(async () => {
    // loginConfig, plus a client that requires a second factor of everyone, a local account with
    // no role yet, and a directory (after the local accounts) for an account Lock has no TOTP for.
    const config = loginConfig
      .replace('clients:\n', `clients:\n${payrollClient}`)
      .replace('users:\n', `users:\n  - { username: dave, password: "${DAVE_PASSWORD}" }\n`)
      .replace(
        '  - { id: local, type: local, name: Lock account }',
        `  - { id: local, type: local, name: Lock account }
  - { id: corp-ldap, type: ldap, name: Directory, config: ${JSON.stringify(directory.connectorConfig())} }`,
      );
    lock = await startLock({
      config,
      now: () => new Date(clock),
      env: { LOCK_MFA_REQUIRED_ROLES: 'app_admin' },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
    await directory.close();
  });

  const isLoginPage = (page: Page) => page.status === 200 && /name="password"/.test(page.html);

  /** Whether the browser's session alone gets the client a code (prompt=none): 'code' or the error. */
  const silently = async (browser: Browser, clientId: string) => {
    await browser.authorize(clientId, { prompt: 'none' });
    const outcome = await browser.outcome();
    return outcome.signedIn ? 'code' : outcome.error;
  };

  /** Signs in on the login page the browser is on; enrols or verifies TOTP when Lock asks. */
  const signInOnPage = async (browser: Browser, username: string, password: string, secret?: string) => {
    assert.ok(isLoginPage(browser.page), `expected the login page:\n${browser.page.html.slice(0, 300)}`);
    await browser.submit({ username, password });
    let key = secret;
    if (/Set up two-step sign-in/.test(browser.page.html)) {
      key = enrolmentSecret(browser.page.html);
      await browser.submit({ code: totpCode(key, clock) });
      assert.match(browser.page.html, /Save your recovery codes/);
      await browser.submit();
    } else if (/Enter your code/.test(browser.page.html)) {
      clock += 30_000;
      await browser.submit({ code: totpCode(key!, clock) });
    }
    return { outcome: await browser.outcome(), secret: key };
  };

  it('a client with requireMfa asks a password-only session for the second factor', async () => {
    const browser = new Browser(lock.issuer);
    await browser.authorize('web-app');
    const atWebApp = await signInOnPage(browser, 'bob', BOB_PASSWORD);
    assert.ok(atWebApp.outcome.signedIn);
    assert.deepEqual(atWebApp.outcome.amr, ['pwd']);

    assert.equal(await silently(browser, 'payroll'), 'login_required', 'no code without a second factor');
    assert.equal(await silently(browser, 'web-app'), 'code', 'the session itself still serves web-app');

    const page = await browser.authorize('payroll');
    assert.ok(isLoginPage(page), 'asked to sign in again, not handed a code');
    const atPayroll = await signInOnPage(browser, 'bob', BOB_PASSWORD);
    assert.ok(atPayroll.outcome.signedIn);
    assert.deepEqual([atPayroll.outcome.username, atPayroll.outcome.amr], ['bob', ['pwd', 'otp']]);
    assert.equal(atPayroll.outcome.sub, atWebApp.outcome.sub);

    // Stepped up: the session now serves both clients silently.
    assert.equal(await silently(browser, 'payroll'), 'code');
    assert.equal(await silently(browser, 'web-app'), 'code');
    // max_age and acr_values keep working on top of it.
    assert.ok(isLoginPage(await browser.authorize('payroll', { max_age: '0' })), 'max_age=0 asks again');
    await browser.authorize('payroll', { acr_values: 'urn:example:any' });
    const withAcrValues = await browser.outcome();
    assert.ok(withAcrValues.signedIn);
    assert.deepEqual(withAcrValues.amr, ['pwd', 'otp']);
  });

  it('a role in LOCK_MFA_REQUIRED_ROLES granted after a password sign-in asks that session for the second factor', async () => {
    const browser = new Browser(lock.issuer);
    await browser.authorize('web-app');
    const before = await signInOnPage(browser, 'dave', DAVE_PASSWORD);
    assert.ok(before.outcome.signedIn);
    assert.deepEqual(before.outcome.amr, ['pwd']);
    assert.equal(await silently(browser, 'web-app'), 'code');

    await lock.database.pool.query(
      `INSERT INTO user_roles (user_id, role_name) SELECT id, 'app_admin' FROM users WHERE username = 'dave'`,
    );
    assert.equal(await silently(browser, 'web-app'), 'login_required');
    const page = await browser.authorize('web-app');
    assert.ok(isLoginPage(page), 'asked to sign in again, not handed a code');
    const after = await signInOnPage(browser, 'dave', DAVE_PASSWORD);
    assert.ok(after.outcome.signedIn);
    assert.deepEqual([after.outcome.username, after.outcome.amr], ['dave', ['pwd', 'otp']]);
    assert.equal(await silently(browser, 'web-app'), 'code');
  });

  it('a directory account, which Lock has no second factor for, signs in to the MFA client as before: no loop', async () => {
    const browser = new Browser(lock.issuer);
    await browser.authorize('payroll');
    const { outcome } = await signInOnPage(browser, 'zoe', 'zoe-password');
    assert.ok(outcome.signedIn, JSON.stringify(outcome));
    assert.deepEqual([outcome.username, outcome.amr], ['zoe', ['pwd']]);
    assert.equal(await silently(browser, 'payroll'), 'code');
  });
});
