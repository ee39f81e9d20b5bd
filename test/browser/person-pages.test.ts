import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { appRolesAndApi, WEB_SECRET, webAppClient } from '../helpers/login-fixtures.ts';
import { linkIn, mailAddress, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import { startAuthorization } from '../helpers/relying-party.ts';
import { totpCode } from '../helpers/second-factor.ts';

const ALICE = { username: 'alice', email: mailAddress('alice'), password: 'alice has a long passphrase' };
// `totty` holds a role that requires two-step sign-in: the login flow's TOTP pages are hers.
const TOTTY = { username: 'totty', password: 'totty has a long passphrase' };
const TINA = { username: 'tina', password: 'tina has a long passphrase' };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 };

// The person-facing pages in a real Chromium: Show/Hide on password fields, Copy and Download of
// recovery codes (views/assets/lock.js, under the pages' strict CSP), and no page wider than a phone.
describe('person-facing pages in headless Chromium', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    app = await startClientCallback();
    lock = await startLock({
      config: `
${appRolesAndApi()}
clients:
${webAppClient({ redirectUri: app.url })}
  - { clientId: partner-app, clientSecret: ${WEB_SECRET}, name: Partner App, redirectUris: ["${app.url}"], resources: [https://db-api.example.com] }
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: ${ALICE.username}, email: "${ALICE.email}", password: "${ALICE.password}" }
  - { username: ${TOTTY.username}, password: "${TOTTY.password}", roles: [app_admin] }
  - { username: ${TINA.username}, password: "${TINA.password}", roles: [app_admin] }
`,
      env: {
        LOCK_SMTP_URL: smtpUrl(),
        LOCK_MAIL_FROM: 'lock@mail.test',
        LOCK_MFA_REQUIRED_ROLES: 'app_admin',
      },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    app?.close();
  });

  /** A fresh profile's page that records every Content-Security-Policy complaint. */
  const freshPage = async (options: BrowserContextOptions = {}) => {
    const context = await browser.browser.newContext(options);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    return { page, violations, close: () => context.close() };
  };

  const loginPageOf = async (clientId = 'web-app') =>
    (
      await startAuthorization(
        lock.issuer,
        { id: clientId, secret: WEB_SECRET },
        { redirect_uri: app.url, scope: 'openid' },
      )
    ).url.toString();

  it('shows the typed password with Show, hides it with Hide, by keyboard, and then signs in', async () => {
    const { page, violations, close } = await freshPage();
    const response = await page.goto(await loginPageOf());
    assert.match(response!.headers()['content-security-policy']!, /script-src 'self'; /);
    assert.doesNotMatch(response!.headers()['content-security-policy']!, /unsafe-inline|unsafe-eval/);
    await page.getByLabel('Username').fill(ALICE.username);
    const password = page.getByLabel('Password');
    await password.fill(ALICE.password);

    const toggle = page.getByRole('button', { name: 'Show' });
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    assert.equal(await toggle.getAttribute('aria-controls'), 'password');
    assert.equal(await password.getAttribute('type'), 'password');

    // The button follows the field in the tab order; Space presses it.
    await password.focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Show');
    await page.keyboard.press('Space');
    assert.equal(await password.getAttribute('type'), 'text', 'the typed text is shown');
    assert.equal(await password.inputValue(), ALICE.password);
    const hide = page.getByRole('button', { name: 'Hide' });
    assert.equal(await hide.getAttribute('aria-pressed'), 'true');
    await page.keyboard.press('Enter');
    assert.equal(await password.getAttribute('type'), 'password', 'hidden again');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');

    // Shown when submitted: still signs in, and the field goes back to a password field first.
    await toggle.click();
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    assert.equal(await page.locator('#done').innerText(), 'Signed in');
    assert.deepEqual(violations, []);
    await close();
  });

  it('names the toggle in the page language', async () => {
    const { page, close } = await freshPage({ locale: 'de-DE' });
    await page.goto(await loginPageOf());
    await page.getByRole('button', { name: 'Anzeigen' }).click();
    await page.getByRole('button', { name: 'Verbergen', pressed: true }).waitFor();
    await close();
  });

  it('offers Copy and Download for recovery codes, and the file holds every code', async () => {
    const { page, violations, close } = await freshPage({ acceptDownloads: true });
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: lock.issuer });
    await page.goto(await loginPageOf());
    await page.getByLabel('Username').fill(TOTTY.username);
    await page.getByLabel('Password').fill(TOTTY.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
    await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page.locator('ol.recovery-codes code').allTextContents();
    assert.equal(codes.length, 10);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download codes' }).click(),
    ]);
    assert.match(download.suggestedFilename(), /^recovery-codes-127\.0\.0\.1\.txt$/);
    const file = await readFile((await download.path())!, 'utf8');
    assert.deepEqual(file.trim().split('\n').slice(-10), codes, file);
    assert.match(file, /^Recovery codes — 127\.0\.0\.1:\d+\n/);

    await page.getByRole('button', { name: 'Copy codes' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), file);
    assert.deepEqual(violations, [], 'a Blob URL download needs no blob: in the CSP');

    await page.getByRole('button', { name: /continue/i }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    await close();
  });

  it('fits every person-facing page into a 390 px wide phone screen', async () => {
    const overflowing: string[] = [];
    const blocked: string[] = [];
    const visited: string[] = [];
    const fits = async (page: Page, name: string) => {
      await page.waitForLoadState();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      visited.push(name);
      if (width > 390) overflowing.push(`${name}: ${width}px (${page.url()})`);
    };

    // Not signed in: landing, login (after an error), reset request, error page.
    const anonymous = await freshPage(PHONE);
    const page = anonymous.page;
    await page.goto(`${lock.issuer}/`);
    await fits(page, 'landing');
    await page.goto(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2F`,
    );
    await page.getByRole('heading').first().waitFor();
    await fits(page, 'error');
    await page.goto(`${lock.issuer}/reset`);
    await fits(page, 'reset request');
    await page.goto(await loginPageOf('partner-app'));
    await page.getByLabel('Username').fill(ALICE.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    await fits(page, 'login with an error');
    await page.getByLabel('Password').fill(ALICE.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page
      .getByRole('button', { name: /allow|continue/i })
      .first()
      .waitFor();
    await fits(page, 'consent');
    await page.goto(`${lock.issuer}/session/end`);
    await fits(page, 'logout');
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.waitForLoadState();
    await fits(page, 'logged out');
    blocked.push(...anonymous.violations);
    await anonymous.close();

    // The reset link's page.
    const resetting = await freshPage(PHONE);
    await resetting.page.goto(`${lock.issuer}/reset`);
    await resetting.page.getByRole('textbox').first().fill(ALICE.email);
    await resetting.page.getByRole('button').last().click();
    await resetting.page.waitForLoadState();
    const link = linkIn(
      await waitForMail(ALICE.email, { subject: /Reset your Lock password/ }),
      `${lock.issuer}/reset/`,
    );
    await resetting.page.goto(link);
    await resetting.page.getByLabel('New password', { exact: true }).waitFor();
    await fits(resetting.page, 'reset password');
    assert.equal(await resetting.page.getByRole('button', { name: 'Show', pressed: false }).count(), 2);
    blocked.push(...resetting.violations);
    await resetting.close();

    // The login flow's second-factor pages: enrolment, recovery codes, then code entry.
    const second = await freshPage(PHONE);
    await second.page.goto(await loginPageOf());
    await second.page.getByLabel('Username').fill(TINA.username);
    await second.page.getByLabel('Password').fill(TINA.password);
    await second.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await second.page.getByRole('heading', { name: 'Set up two-step sign-in' }).waitFor();
    await fits(second.page, 'TOTP enrolment');
    const tinaSecret = ((await second.page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await second.page.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(tinaSecret));
    await second.page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await second.page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    await fits(second.page, 'TOTP recovery codes');
    blocked.push(...second.violations);
    await second.close();
    const verify = await freshPage(PHONE);
    await verify.page.goto(await loginPageOf());
    await verify.page.getByLabel('Username').fill(TINA.username);
    await verify.page.getByLabel('Password').fill(TINA.password);
    await verify.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await verify.page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await fits(verify.page, 'TOTP code entry');
    blocked.push(...verify.violations);
    await verify.close();

    // /account and its pages, the recovery codes among them.
    const account = await freshPage(PHONE);
    const me = account.page;
    await me.goto(`${lock.issuer}/account`);
    await me.getByLabel('Username').fill(ALICE.username);
    await me.getByLabel('Password').fill(ALICE.password);
    await me.getByRole('button', { name: 'Sign in', exact: true }).click();
    await me.getByRole('heading', { name: 'Your account' }).waitFor();
    await fits(me, 'account');
    await me.goto(`${lock.issuer}/account/password`);
    await fits(me, 'account password');
    await me.getByRole('button', { name: 'Show' }).nth(1).click();
    assert.equal(await me.getByLabel('New password', { exact: true }).getAttribute('type'), 'text');
    assert.equal(await me.getByLabel('Current password').getAttribute('type'), 'password');
    assert.equal(await me.getByRole('button', { name: 'Show' }).count(), 2, 'one toggle per field');
    await me.goto(`${lock.issuer}/account/email`);
    await fits(me, 'account email');
    await me.goto(`${lock.issuer}/account/two-step/enrol`);
    const secret = ((await me.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
    await fits(me, 'account two-step enrolment');
    await me.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
    await me.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
    await me.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    assert.ok(await me.getByRole('button', { name: 'Download codes' }).isVisible());
    await fits(me, 'account recovery codes');
    blocked.push(...account.violations);
    await account.close();

    assert.equal(visited.length, 16, visited.join(', '));
    assert.deepEqual(overflowing, [], 'no page scrolls sideways at 390 px');
    assert.deepEqual(blocked, [], 'lock.js runs under every page’s CSP');
  });
});
