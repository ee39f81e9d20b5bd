// The console's OpenID Connect and OAuth 2.0 connector forms in a real browser: an admin fills in
// an upstream provider (a second Lock), sees the redirect URI to register there, tests the
// connection step by step, creates the connector, and finds the secret write-only when editing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, signInToConsole } from '../helpers/browser.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

const ADMIN_PASSWORD = 'the bootstrap admin passphrase';
const CLIENT_SECRET = 'the secret the upstream issued';

describe('admin console: OpenID Connect and OAuth 2.0 connectors', () => {
  let upstream: RunningLock;
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    upstream = await startLock();
    lock = await startLock({ env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    await upstream?.close();
    await upstream?.database.drop();
  });

  it('creates an oidc and an oauth2 connector: redirect URI shown, connection test report, secret write-only', async () => {
    const context = await browser.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await signInToConsole(page, lock.issuer, ADMIN_PASSWORD);
    await page.getByRole('heading', { name: 'Connectors' }).waitFor();

    await page.getByRole('button', { name: 'New OpenID Connect connector' }).click();
    await page.getByRole('heading', { name: 'New OpenID Connect connector' }).waitFor();
    await page.getByLabel('ID', { exact: true }).fill('partner-lock');
    assert.equal(
      await page.locator('#redirect-uri').textContent(),
      `${lock.issuer}/sso/partner-lock/callback`,
      'the redirect URI follows the id as it is typed',
    );
    await page.getByLabel('Display name').fill('Partner Lock');
    await page.getByLabel('Issuer URL').fill(upstream.issuer);
    await page.getByLabel('Allow an http:// issuer (development only)').check();
    await page.getByLabel('Client ID').fill('downstream-lock');
    await page.getByLabel('Client secret').fill(CLIENT_SECRET);
    await page.getByLabel('Claim groups').fill('groups');

    await page.getByRole('button', { name: 'Test connection' }).click();
    const report = page.getByRole('status', { name: 'Connection test' });
    await report.getByText('Connection test passed').waitFor();
    assert.deepEqual(
      await report
        .locator('li')
        .evaluateAll((items) =>
          items.map((item) => [item.getAttribute('data-step'), item.getAttribute('data-ok')]),
        ),
      [
        ['discovery', 'true'],
        ['jwks', 'true'],
        ['token endpoint', 'true'],
      ],
    );
    assert.match(
      (await report.textContent()) ?? '',
      /answered 40[01] invalid_\w+ to an unauthenticated request/,
    );

    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByRole('heading', { name: 'OpenID Connect connector partner-lock' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Connector partner-lock saved.' }).waitFor();
    assert.equal(
      await page.locator('#redirect-uri').textContent(),
      `${lock.issuer}/sso/partner-lock/callback`,
    );
    assert.equal(await page.getByLabel('Issuer URL').inputValue(), upstream.issuer);
    assert.equal(await page.getByLabel('Client secret').inputValue(), '', 'the secret is never shown again');
    assert.match(
      (await page.locator('.field', { has: page.getByLabel('Client secret') }).textContent()) ?? '',
      /Set — leave empty to keep it/,
    );
    assert.ok(!(await page.content()).includes(CLIENT_SECRET));

    // Pointing it at another issuer without the secret: the server asks for it again.
    await page.getByLabel('Issuer URL').fill(`${lock.issuer}`);
    await page.getByRole('button', { name: 'Save connector' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /required again: issuer.*config\.clientSecret/i })
      .waitFor();

    await page.getByRole('link', { name: 'Connectors' }).click();
    const row = page.getByRole('row').filter({ hasText: 'partner-lock' });
    assert.match(
      (await row.textContent()) ?? '',
      new RegExp(`OIDC.*${upstream.issuer.replaceAll('.', '\\.')}`),
    );

    await page.getByRole('button', { name: 'New OAuth 2.0 connector' }).click();
    await page.getByRole('heading', { name: 'New OAuth 2.0 connector' }).waitFor();
    for (const label of ['Authorization URL', 'Token URL', 'User info URL', 'Groups URL (optional)'])
      assert.equal(await page.getByLabel(label).count(), 1, label);
    await page.getByLabel('ID', { exact: true }).fill('github');
    assert.equal(await page.locator('#redirect-uri').textContent(), `${lock.issuer}/sso/github/callback`);
    const endpoints = await (await fetch(`${upstream.issuer}/.well-known/openid-configuration`)).json();
    await page.getByLabel('Display name').fill('Code host');
    await page.getByLabel('Authorization URL').fill(endpoints.authorization_endpoint);
    await page.getByLabel('Token URL').fill(endpoints.token_endpoint);
    await page.getByLabel('User info URL').fill(endpoints.userinfo_endpoint);
    await page.getByLabel('Client ID').fill('downstream-lock');
    await page.getByLabel('Client secret').fill(CLIENT_SECRET);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await report.getByText('Connection test passed').waitFor();
    assert.deepEqual(
      await report.locator('li').evaluateAll((items) => items.map((item) => item.getAttribute('data-step'))),
      ['token endpoint', 'authorization endpoint', 'userinfo'],
    );
    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByRole('heading', { name: 'OAuth 2.0 connector github' }).waitFor();
    assert.equal(await page.locator('#redirect-uri').textContent(), `${lock.issuer}/sso/github/callback`);
    assert.ok(!(await page.content()).includes(CLIENT_SECRET));

    assert.deepEqual(errors, []);
    await context.close();
  });
});
