import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';

// A real browser on the login page asked for in German (ui_locales=de, docs/languages.md): what the
// person sees is German, the page says so (lang), and the sign-in works through the German form.
describe('the login page in German, in headless Chromium', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let screenshots: string;

  before(async () => {
    screenshots = await mkdtemp(join(tmpdir(), 'lock-languages-'));
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

  // The screenshot stays in the OS temp dir for a person to look at; the test names it.
  it('shows German text, lang="de", and signs in through the German form; a screenshot is saved', async (t) => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile', ui_locales: 'de' },
    );
    // The browser itself asks for Japanese: ui_locales wins.
    const context = await browser.browser.newContext({ locale: 'ja-JP' });
    const page = await context.newPage();
    await page.goto(request.url.toString());

    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    assert.equal(await page.title(), 'Bei Web App anmelden – Lock');
    await page.getByRole('heading', { name: 'Anmelden' }).waitFor();
    assert.ok(await page.getByText('um mit Web App fortzufahren').isVisible());
    assert.ok(await page.getByLabel('Benutzername').isVisible());
    assert.ok(await page.getByLabel('Passwort').isVisible());
    assert.ok(await page.getByRole('button', { name: 'Anmelden', exact: true }).isVisible());

    const file = join(screenshots, 'login-de.png');
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`screenshot: ${file}`);
    const png = await readFile(file);
    assert.ok(png.length > 1000, `a real image, not an empty file (${png.length} bytes)`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');

    await page.getByLabel('Benutzername').fill('alice');
    await page.getByLabel('Passwort').fill('a wrong password');
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.waitForLoadState();
    assert.equal(await page.getByRole('alert').innerText(), 'Benutzername oder Passwort ist falsch.');
    assert.match(await page.title(), /^Fehler: Bei Web App anmelden/);

    await page.getByLabel('Passwort').fill(ALICE_PASSWORD);
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    const tokens = await redeem(request, app.lastCallback()!);
    assert.equal(tokens.claims()?.preferred_username, 'alice');
    await context.close();
  });

  it('the error page of a bad redirect_uri: plain words and a way back shown, the developer detail folded', async (t) => {
    const page = await browser.browser.newPage();
    const response = await page.goto(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://evil.example.com/cb')}`,
    );
    assert.equal(response?.status(), 400);
    await page.getByRole('heading', { name: 'This sign-in link is not valid' }).waitFor();
    assert.ok(await page.getByRole('link', { name: 'Back to Web App' }).isVisible());
    assert.equal(
      await page.locator('code.reference').innerText(),
      (await response!.headerValue('x-request-id')) ?? undefined,
    );
    const detail = page.getByText('redirect_uri did not match', { exact: false });
    assert.equal(await detail.isVisible(), false, 'folded until asked for');
    await page.getByText('Details for the application’s developers').click();
    assert.ok(await detail.isVisible());
    const file = join(screenshots, 'error-en.png');
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`screenshot: ${file}`);
    await page.close();
  });
});
