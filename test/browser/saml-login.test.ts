import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PLAIN_IDP_OPTIONS, plainConnectorConfig, samlLockConfig } from '../connectors/saml-fixtures.ts';
import { registerServiceProvider, simpleSamlPhp } from '../connectors/saml-helpers.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';

// A real browser: Lock's login page, "Sign in with Partner SSO", SimpleSAMLphp's form on another
// site (127.0.0.2), its auto-submitted cross-site POST to Lock's ACS, and back to the client.
describe('SAML login in headless Chromium', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let registration: { unregister(): Promise<void> };

  before(async () => {
    app = await startClientCallback();
    lock = await startLock({
      config: samlLockConfig(
        [{ id: 'partner', name: 'Partner SSO', config: plainConnectorConfig() }],
        app.url,
      ),
    });
    registration = await registerServiceProvider(lock, 'partner', PLAIN_IDP_OPTIONS);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await registration?.unregister();
    await lock?.close();
    await lock?.database.drop();
    app?.close();
  });

  it('clicks "Sign in with Partner SSO", signs in at the IdP and lands on the client with a code', async () => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile groups', resource: API },
    );
    const { url } = request;
    const page = await browser.browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(url.toString());
    await page.getByRole('link', { name: 'Sign in with Partner SSO' }).click();
    await page.waitForURL((at) => at.origin === simpleSamlPhp().origin);
    await page.locator('input[name="username"]').fill('alice');
    await page.locator('input[name="password"]').fill('alicepass');
    await page.locator('input[name="password"]').press('Enter');
    await page.waitForURL((landed) => landed.toString().startsWith(app.url), { timeout: 15_000 });
    assert.equal(await page.locator('#done').textContent(), 'Signed in');
    assert.deepEqual(violations, []);

    const landed = app.lastCallback()!;
    const tokens = await redeem(request, landed);
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'alice');
    assert.deepEqual(claims.roles, ['app_admin', 'app_readonly']);
    await page.close();
  });
});
