import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { type AccountRequest, PasskeyRegistration } from '../../src/login/passkey-registration.ts';
import { relyingPartyOf } from '../../src/login/webauthn.ts';
import { findUserByUsername } from '../../src/store/users.ts';
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
    cdp,
    /** Whether the person answers the authenticator's prompts (touches it) from now on. */
    present: (enabled: boolean) =>
      cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled }),
  };
}

describe('passkeys in headless Chromium with a virtual authenticator', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let registration: PasskeyRegistration;

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
    registration = new PasskeyRegistration({
      pool: lock.database.pool,
      rp: relyingPartyOf(lock.issuer),
      aaguidAllowlist: [],
      now: () => new Date(),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    app?.close();
  });

  const authorization = () =>
    startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile', resource: API },
    );

  /** The browser registers a passkey for alice: navigator.credentials.create() on Lock's origin. */
  async function registerInBrowser(page: Page): Promise<void> {
    const user = (await findUserByUsername(lock.database.pool, 'alice'))!;
    const account: AccountRequest = {
      userId: user.id,
      username: 'alice',
      sub: 'alice',
      session: 'browser-test',
      ip: '127.0.0.1',
      userAgent: 'chromium',
      requestId: 'test',
    };
    await page.goto(`${lock.issuer}/healthz`);
    const options = await registration.options(account);
    const response = await page.evaluate(async (json) => {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json as never);
      const credential = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      return credential.toJSON();
    }, options);
    const outcome = await registration.register(account, { name: 'Chromium', response });
    assert.equal(outcome.status, 'added', JSON.stringify(outcome));
  }

  it('registers a passkey, then signs in passwordless through the username field autofill (conditional UI): amr hwk + user', async () => {
    const page = await browser.browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await addVirtualAuthenticator(page);
    await registerInBrowser(page);

    const request = await authorization();
    const asked: string[] = [];
    page.on('request', (sent) => {
      if (sent.url().includes('/passkey/'))
        asked.push(new URL(sent.url()).pathname.replace(/^.*\/passkey/, ''));
    });
    // Conditional UI: the page asks for a passkey with mediation 'conditional' as it loads; the
    // virtual authenticator answers as a person picking it from the username field's list would.
    await page.goto(request.url.toString());
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    const tokens = await redeem(request, app.lastCallback()!);
    assert.equal(tokens.claims()!.preferred_username, 'alice');
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'user']);
    assert.deepEqual(asked, ['/options', '/verify'], 'one conditional ceremony, no click');
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation');
    await page.close();
  });

  it('signs in with password + passkey: amr pwd hwk user mfa', async () => {
    const page = await browser.browser.newPage();
    const authenticator = await addVirtualAuthenticator(page);
    await registerInBrowser(page);
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
    await page.close();
  });
});
