// The console pages the LDAP walkthrough (admin-console.test.ts) does not visit, in a real browser:
// the forms whose choices come from the admin API's OpenAPI document at run time (APIs, clients,
// SAML), a delete through GET-for-ETag then If-Match, and key rotation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { nextCode, rememberEnrolment, totpCode } from '../helpers/second-factor.ts';

const ADMIN_PASSWORD = 'the bootstrap admin passphrase';

describe('admin console pages fed by the OpenAPI document', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    lock = await startLock({ env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  const signInAsAdmin = async (page: Page) => {
    await page.goto(`${lock.issuer}/admin`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin' || url.pathname.endsWith('/totp'));
    if (await page.getByRole('heading', { name: 'Set up two-step sign-in' }).isVisible()) {
      const secret = ((await page.locator('#totp-secret').textContent()) ?? '').replace(/\s/g, '');
      await page.getByLabel('Enter the 6-digit code the app shows').fill(totpCode(secret));
      await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      rememberEnrolment(
        lock.issuer,
        'admin',
        secret,
        await page.locator('ol.recovery-codes code').allTextContents(),
      );
      await page.getByRole('button', { name: /continue/i }).click();
    } else if (await page.getByRole('heading', { name: 'Enter your code' }).isVisible()) {
      await page.getByLabel(/Authentication code/).fill(nextCode(lock.issuer, 'admin'));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page.waitForURL((url) => url.pathname === '/admin');
  };

  it('creates and deletes an API, offers the grant types and SAML form, rotates keys', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('dialog', (dialog) => dialog.accept());
    await signInAsAdmin(page);
    await page.getByRole('heading', { name: 'Connectors' }).waitFor();

    await page.getByRole('link', { name: 'APIs' }).click();
    await page.getByRole('heading', { name: 'APIs', exact: true }).waitFor();
    const alg = page.getByLabel('Signing algorithm');
    assert.deepEqual(await alg.locator('option').allTextContents(), ['RS256', 'ES256', 'EdDSA']);
    assert.equal(await alg.inputValue(), 'RS256');
    assert.deepEqual(await page.getByLabel('Access token format').locator('option').allTextContents(), [
      'JWT (verified offline with the JWKS)',
      'Opaque (introspected)',
    ]);
    assert.equal(await page.getByLabel('Access token lifetime (s)').inputValue(), '300');
    await page.getByLabel('Identifier (audience URL)').fill('https://orders.example.com');
    await page.getByLabel('Scopes').fill('read, write');
    await alg.selectOption('ES256');
    await page.getByRole('button', { name: 'Create API' }).click();
    await page.getByRole('status').filter({ hasText: 'API https://orders.example.com created.' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'https://orders.example.com' });
    assert.match((await row.textContent()) ?? '', /read write.*ES256.*300 s/);
    // Deleting happens on the API's page, after a confirmation dialog that names what follows.
    await row.getByRole('link', { name: 'Open API https://orders.example.com' }).click();
    await page.getByRole('heading', { name: 'API https://orders.example.com' }).waitFor();
    await page.getByRole('button', { name: 'Delete API' }).click();
    const confirmation = page.getByRole('dialog', { name: 'Delete API https://orders.example.com?' });
    assert.match((await confirmation.textContent()) ?? '', /stops issuing tokens for it/);
    await confirmation.getByRole('button', { name: 'Delete API https://orders.example.com' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted API https://orders.example.com.' }).waitFor();
    await page.getByRole('heading', { name: 'APIs', exact: true }).waitFor();
    assert.equal(await row.count(), 0);

    // Grant types are picked from the API document's choices, its default ticked.
    await page.getByRole('link', { name: 'Clients' }).click();
    await page.getByRole('heading', { name: 'Clients' }).waitFor();
    const grants = page.getByRole('group', { name: 'Grant types' });
    const boxes = grants.getByRole('checkbox');
    assert.deepEqual(await boxes.evaluateAll((els) => els.map((el) => (el as HTMLInputElement).value)), [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:device_code',
    ]);
    assert.deepEqual(
      await boxes.evaluateAll((els) =>
        els.filter((el) => (el as HTMLInputElement).checked).map((el) => (el as HTMLInputElement).value),
      ),
      ['authorization_code', 'refresh_token'],
    );

    await page.goto(`${lock.issuer}/admin#/connectors/saml/new`);
    await page.getByRole('heading', { name: 'New SAML connector' }).waitFor();
    await page.getByLabel('ID', { exact: true }).fill('idp');
    await page.getByLabel('Display name').fill('Partner IdP');
    await page.getByRole('button', { name: 'Create connector' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /config/ })
      .waitFor();

    await page.goto(`${lock.issuer}/admin#/connectors/ldap/new`);
    assert.deepEqual(await page.getByLabel('Mode').locator('option').allTextContents(), [
      'No groups',
      'memberOf attribute',
      'Search groups',
      'Nested groups',
      'AD in-chain (nested)',
    ]);

    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    const before = await page.getByRole('row').count();
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    await page.getByRole('status').filter({ hasText: 'New signing keys published.' }).waitFor();
    assert.ok((await page.getByRole('row').count()) > before);

    assert.deepEqual(errors, []);
    await context.close();
  });
});
