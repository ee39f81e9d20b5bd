import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig, signInToWebApp } from '../helpers/login-fixtures.ts';
import { totpCode } from '../helpers/second-factor.ts';

const NEW_PASSWORD = 'alice picked a fresh passphrase';

// A person in a real browser on /account: signs in through Lock, changes the password, sets up
// two-step sign-in, makes new recovery codes, turns it off, and ends a session of another device.
describe('/account in headless Chromium', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    lock = await startLock({ config: loginConfig });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  /** A fresh browser profile on /account, signed in with `password`; the page on the overview. */
  const signIn = async (password: string, code?: () => string): Promise<Page> => {
    const context = await browser.browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${lock.issuer}/account`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    if (code) {
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      await page.getByLabel(/Authentication code/).fill(code());
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.deepEqual(violations, []);
    return page;
  };

  const recoveryCodesOn = async (page: Page) => {
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.locator('ol.recovery-codes code').allTextContents();
    assert.equal(codes.length, 10);
    return codes;
  };

  it('changes the password, sets up and removes TOTP, renews recovery codes, ends another session', async () => {
    // Another device: signed in to an application, holding a refresh token.
    const elsewhere = await signInToWebApp(lock.issuer, 'alice', ALICE_PASSWORD);
    assert.ok(elsewhere.tokens?.refresh_token, 'the other device holds a refresh token');
    const refreshed = await oidc.refreshTokenGrant(elsewhere.config, elsewhere.tokens.refresh_token);
    assert.ok(refreshed.refresh_token, 'it refreshes while its session lives');

    const page = await signIn(ALICE_PASSWORD);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');

    // Password: the old one, the new one twice; the other session is kept (box unticked).
    await page.getByRole('link', { name: 'Change password' }).click();
    await page.getByLabel('Current password').fill(ALICE_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByLabel(/End my other sessions/).uncheck();
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password was changed.').waitFor();

    // The old password is refused at Lock's login page; the new one signs in.
    const other = await (await browser.browser.newContext()).newPage();
    await other.goto(`${lock.issuer}/account`);
    await other.getByLabel('Username').fill('alice');
    await other.getByLabel('Password').fill(ALICE_PASSWORD);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.getByText('Incorrect username or password.').waitFor();
    await other.getByLabel('Password').fill(NEW_PASSWORD);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await other.getByRole('heading', { name: 'Your account' }).waitFor();
    await other.context().close();

    // Two-step sign-in: the QR page, a code of the app, the recovery codes.
    await page.getByRole('link', { name: 'Set up two-step sign-in' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    const firstCodes = await recoveryCodesOn(page);
    await page.getByRole('link', { name: /back to your account/ }).click();
    await page.getByText('Two-step sign-in is on').waitFor();

    // A new sign-in now asks for a code: a recovery code answers it.
    const withCode = await signIn(NEW_PASSWORD, () => firstCodes[0]!);
    await withCode.context().close();

    // New recovery codes: ten others; the old ones no longer count.
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    const newCodes = await recoveryCodesOn(page);
    assert.equal(newCodes.filter((code) => firstCodes.includes(code)).length, 0);
    await page.getByRole('link', { name: /back to your account/ }).click();
    await page.getByText('Recovery codes left: 10.').waitFor();

    // Turned off: the next sign-in asks for the password only.
    await page.getByRole('button', { name: 'Turn off two-step sign-in' }).click();
    await page
      .getByText('Two-step sign-in is off. Your authenticator app and recovery codes no longer work.')
      .waitFor();
    await (await signIn(NEW_PASSWORD)).context().close();

    // The other device's session: listed, ended; its refresh token fails from then on.
    await page.reload();
    const sessions = page.locator('#sessions li');
    const current = page.locator('.badge');
    assert.equal(await sessions.filter({ has: current }).count(), 1, 'one session is marked as this one');
    const elsewhereItem = sessions.filter({ hasText: 'Web App' }).filter({ hasNot: current });
    assert.equal(await elsewhereItem.count(), 1, (await page.locator('#sessions').textContent()) ?? '');
    await elsewhereItem.getByRole('button', { name: 'End this session' }).click();
    await page.getByText('The session was ended.').waitFor();
    await assert.rejects(oidc.refreshTokenGrant(elsewhere.config, refreshed.refresh_token!), (error: Error) =>
      /invalid_grant/.test(
        `${(error as { code?: string }).code} ${(error as { error?: string }).error} ${error.message}`,
      ),
    );

    // The recent sign-ins list what happened, newest first.
    const signIns = await page.locator('#sign-ins tbody tr').allInnerTexts();
    assert.ok(
      signIns.some((row) => /Recovery code\s+Succeeded/.test(row)),
      signIns.join('\n'),
    );
    assert.ok(
      signIns.some((row) => /Password\s+Refused/.test(row)),
      signIns.join('\n'),
    );
  });
});
