import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { enrolmentSecret, recoveryCodesOf, totpCode } from '../helpers/second-factor.ts';
import { Browser } from './totp-flow.ts';

/**
 * Sign-ins racing with one code: as many browsers, each past the password and asked for a code.
 * Fewer than the account's lockout threshold (30), so that every racer's code is looked at.
 */
const RACERS = 20;
const ERIN_PASSWORD = 'erin enrols an authenticator too';
const config = loginConfig.replace(
  'users:\n',
  `users:\n  - { username: erin, password: "${ERIN_PASSWORD}", roles: [app_admin] }\n`,
);

describe('a TOTP code and a recovery code sign in once, however many sign-ins race with it', () => {
  let lock: RunningLock;
  let clock = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
  const accounts: Record<string, { password: string; secret: string; recoveryCodes: string[] }> = {};

  before(async () => {
    lock = await startLock({
      config,
      now: () => new Date(clock),
      env: { LOCK_MFA_REQUIRED_ROLES: 'app_admin' },
    });
    for (const [username, password] of [
      ['alice', ALICE_PASSWORD],
      ['erin', ERIN_PASSWORD],
    ] as const) {
      const browser = new Browser(lock.issuer);
      await browser.authorize('web-app');
      await browser.submit({ username, password });
      const secret = enrolmentSecret(browser.page.html);
      await browser.submit({ code: totpCode(secret, clock) });
      const recoveryCodes = recoveryCodesOf(browser.page.html);
      await browser.submit();
      assert.ok((await browser.outcome()).signedIn);
      accounts[username] = { password, secret, recoveryCodes };
    }
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** RACERS browsers of `username`, each at the page that asks for a code. */
  const atCodePage = async (username: string) =>
    Promise.all(
      Array.from({ length: RACERS }, async () => {
        const browser = new Browser(lock.issuer);
        await browser.authorize('web-app');
        await browser.submit({ username, password: accounts[username]!.password });
        assert.match(browser.page.html, /Enter your code/);
        return browser;
      }),
    );

  /** Every browser submits `code` at once; the outcomes, and what the others were told. */
  const race = async (browsers: Browser[], code: string) => {
    const pages = await Promise.all(browsers.map((browser) => browser.submit({ code })));
    const outcomes = await Promise.all(browsers.map((browser) => browser.outcome()));
    return { pages, outcomes, signedIn: outcomes.filter((outcome) => outcome.signedIn) };
  };

  it('one recovery code submitted by 20 sign-ins at once: exactly one signs in, the others are refused', async () => {
    const browsers = await atCodePage('alice');
    const { pages, signedIn } = await race(browsers, accounts.alice!.recoveryCodes[0]!);
    assert.equal(signedIn.length, 1, `${signedIn.length} sign-ins with one recovery code`);
    assert.deepEqual(signedIn[0]!.signedIn && [signedIn[0]!.username, signedIn[0]!.amr], [
      'alice',
      ['pwd', 'otp'],
    ]);
    const refused = pages.filter((page) => page.status === 401 && /That code is not right/.test(page.html));
    assert.equal(refused.length, RACERS - 1, 'the others read as a used code');
    const { rows } = await lock.database.pool.query(
      `SELECT outcome, reason, count(*)::int AS n FROM audit_events
       WHERE type = 'login.totp' AND subject = 'alice' GROUP BY outcome, reason ORDER BY outcome`,
    );
    assert.deepEqual(rows, [
      { outcome: 'failure', reason: 'unknown or already used recovery code', n: RACERS - 1 },
      { outcome: 'success', reason: null, n: 1 },
    ]);
  });

  it('one TOTP code submitted by 20 sign-ins at once: exactly one signs in, the others are refused', async () => {
    clock += 30_000;
    const browsers = await atCodePage('erin');
    const { pages, signedIn } = await race(browsers, totpCode(accounts.erin!.secret, clock));
    assert.equal(signedIn.length, 1, `${signedIn.length} sign-ins with one TOTP code`);
    assert.deepEqual(signedIn[0]!.signedIn && [signedIn[0]!.username, signedIn[0]!.amr], [
      'erin',
      ['pwd', 'otp'],
    ]);
    const refused = pages.filter((page) => page.status === 401 && /That code is not right/.test(page.html));
    assert.equal(refused.length, RACERS - 1, 'the others read as a replay');
  });
});
