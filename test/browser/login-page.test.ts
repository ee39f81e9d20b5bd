import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';

// A real browser on Lock's real login page: the user types, submits, and lands on the client.
describe('login page in headless Chromium', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    app = await startClientCallback();
    lock = await startLock({
      config: `
roles: [{ name: app_readwrite }]
resources: [{ id: ${API}, scopes: [read], roles: [app_readwrite] }]
clients:
  - { clientId: web-app, clientSecret: ${WEB_SECRET}, name: Web App, firstParty: true, redirectUris: ["${app.url}"], resources: [${API}] }
users:
  - { username: alice, password: "${ALICE_PASSWORD}" }
`,
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    app?.close();
  });

  it('types the credentials and lands on the client callback with a code', async () => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile' },
    );
    const { url, state } = request;
    const page = await browser.browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(url.toString());
    assert.match(await page.title(), /Sign in/i);
    assert.match(await page.locator('main').innerText(), /Web App/);

    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('a wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState();
    assert.match(await page.getByRole('alert').innerText(), /Incorrect username or password/);
    assert.equal(await page.getByLabel('Username').inputValue(), 'alice', 'the username is kept');

    await page.getByLabel('Password').fill(ALICE_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    assert.equal(await page.locator('#done').innerText(), 'Signed in');

    const landed = app.lastCallback()!;
    assert.equal(landed.searchParams.get('state'), state);
    const tokens = await redeem(request, landed);
    assert.equal(tokens.claims()?.preferred_username, 'alice');
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation on the way');
    await page.close();
  });

  it('serves the page with strict headers and a cookie that is httpOnly and SameSite', async () => {
    const page = await browser.browser.newPage();
    const response = await page.goto(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(app.url)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
    );
    const headers = response!.headers();
    assert.equal(headers['cache-control'], 'no-store');
    assert.match(headers['content-security-policy']!, /default-src 'none'/);
    assert.doesNotMatch(headers['content-security-policy']!, /unsafe-inline/);
    assert.equal(headers['x-frame-options'], 'DENY');
    const cookies = await page.context().cookies();
    const interaction = cookies.find((cookie) => cookie.name === '_interaction');
    assert.ok(interaction?.httpOnly);
    assert.equal(interaction?.sameSite, 'Lax');
    await page.close();
  });
});
