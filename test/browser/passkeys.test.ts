import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';

/**
 * Chromium with a virtual authenticator (the DevTools protocol's WebAuthn domain): a platform
 * authenticator with resident keys and user verification, as a laptop's would be. Lock runs on
 * http://localhost (a secure context, and a host name an RP ID may be).
 */
async function addVirtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    /** Whether the person answers the authenticator's prompts (touches it) from now on. */
    present: (enabled: boolean) =>
      cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled }),
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

describe('passkeys in headless Chromium with a virtual authenticator', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let authenticator: Awaited<ReturnType<typeof addVirtualAuthenticator>>;
  const violations: string[] = [];

  before(async () => {
    app = await startClientCallback();
    lock = await startLock({
      hostname: 'localhost',
      config: `
roles: [{ name: app_readwrite }]
resources: [{ id: ${API}, scopes: [read], roles: [app_readwrite] }]
clients:
  - { clientId: web-app, clientSecret: ${WEB_SECRET}, name: Web App, firstParty: true, redirectUris: ["${app.url}"], resources: [${API}] }
connectors:
  - { id: local, type: local, name: Lock account }
users:
  - { username: alice, password: "${ALICE_PASSWORD}" }
`,
    });
    browser = await launchBrowser();
    // One page (one browser, one authenticator) for the whole story: register, sign in, remove.
    page = await browser.browser.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    authenticator = await addVirtualAuthenticator(page);
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    app?.close();
  });

  /** A fresh sign-in to web-app (prompt=login: the Lock session of /account does not count). */
  const authorization = () =>
    startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile', resource: API, prompt: 'login' },
    );

  it('registers a passkey on /account (with a name), and renames it', async () => {
    // No passkey yet: the login page's autofill has nothing to offer, so the person types.
    await page.goto(`${lock.issuer}/account`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(ALICE_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByRole('link', { name: 'Add a passkey' }).click();
    await page.getByRole('heading', { name: 'Add a passkey' }).waitFor();
    await page.getByLabel(/^Name/).fill('Work laptop');
    await page.getByRole('button', { name: 'Add passkey' }).click();
    await page.waitForURL((url) => url.search === '?done=passkeys.added');
    assert.match(await page.getByRole('status').innerText(), /Your passkey was added/);
    const section = page.locator('#passkeys');
    assert.match(await section.innerText(), /Work laptop/);
    assert.match(await section.innerText(), /Passkey on one device/);
    const [credential] = await authenticator.credentials();
    assert.equal(credential?.isResidentCredential, true, 'a discoverable credential (resident key)');
    assert.equal(credential?.rpId, 'localhost');

    await section.getByLabel('Name').fill('Laptop (work)');
    await section.getByRole('button', { name: 'Rename' }).click();
    await page.waitForURL((url) => url.search === '?done=passkeys.renamed');
    assert.match(await page.locator('#passkeys').innerText(), /Laptop \(work\)/);
  });

  it('signs in passwordless through the username field autofill (conditional UI): amr hwk + user', async () => {
    const request = await authorization();
    const asked: string[] = [];
    const listener = (sent: { url(): string }) => {
      if (sent.url().includes('/passkey/'))
        asked.push(new URL(sent.url()).pathname.replace(/^.*\/passkey/, ''));
    };
    page.on('request', listener);
    // The page asks for a passkey with mediation 'conditional' as it loads; the virtual
    // authenticator answers as a person picking it from the username field's list would.
    await page.goto(request.url.toString());
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    page.off('request', listener);
    const tokens = await redeem(request, app.lastCallback()!);
    assert.equal(tokens.claims()!.preferred_username, 'alice');
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'user']);
    assert.deepEqual(asked, ['/options', '/verify'], 'one conditional ceremony, no click');
  });

  it('signs in with password + passkey: amr pwd hwk user mfa', async () => {
    // The person does not pick the passkey from the autofill list: they type their password.
    await authenticator.present(false);
    const request = await authorization();
    await page.goto(request.url.toString());
    assert.equal(await page.getByLabel('Username').getAttribute('autocomplete'), 'username webauthn');
    assert.ok(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible());
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(ALICE_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Use your passkey' }).waitFor();
    await authenticator.present(true);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    const tokens = await redeem(request, app.lastCallback()!);
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk', 'user', 'mfa']);
  });

  it('removes the passkey on /account: it signs nobody in from then on', async () => {
    await page.goto(`${lock.issuer}/account`);
    await page
      .locator('#passkeys')
      .getByRole('button', { name: /Remove/ })
      .click();
    await page.waitForURL((url) => url.search === '?done=passkeys.removed');
    assert.match(await page.locator('#passkeys').innerText(), /no passkeys yet/);
    // The authenticator still holds the key: the autofill offers it, and Lock refuses it.
    await authenticator.present(false);
    const request = await authorization();
    await page.goto(request.url.toString());
    await authenticator.present(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('That passkey could not sign you in').waitFor();
    assert.ok(!page.url().startsWith(app.url));
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation on any page');
  });
});
