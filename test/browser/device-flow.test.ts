import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.ts';
import { startDeviceClient } from '../helpers/device-client-process.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API } from '../helpers/login-fixtures.ts';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

// A device-flow client (openid-client in its own process) and a person in Chromium on Lock's pages.
describe('device sign-in in headless Chromium', () => {
  let lock: RunningLock;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    lock = await startLock({
      config: `
roles: [{ name: app_readwrite }]
resources: [{ id: ${API}, scopes: [read], roles: [app_readwrite] }]
clients:
  - { clientId: tv-app, name: Living-room TV, public: true, firstParty: true, grantTypes: [${DEVICE_CODE}], resources: [${API}] }
connectors:
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: local, group: editors, roles: [app_readwrite] }
users:
  - { username: alice, password: "${ALICE_PASSWORD}", groups: [editors] }
`,
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
  });

  const newPage = async () => {
    const page = await browser.browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    return { page, violations };
  };
  const typeCode = async (page: Page, code: string) => {
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForLoadState();
  };

  it('alice enters the code, signs in and approves; the device gets a token with her roles for the API', async () => {
    const device = await startDeviceClient({
      issuer: lock.issuer,
      clientId: 'tv-app',
      scope: 'openid read',
      resource: API,
    });
    try {
      const { page, violations } = await newPage();
      await page.goto(device.started.verification_uri);
      assert.match(await page.title(), /Connect a device – Lock/);

      await typeCode(page, 'BBBB-BBBB');
      assert.match((await page.getByRole('alert').textContent()) ?? '', /That code is not right/);

      await typeCode(page, device.started.user_code);
      await page.getByRole('heading', { name: 'Is this your device?' }).waitFor();
      assert.match((await page.locator('main').textContent()) ?? '', /Living-room TV/);
      assert.match((await page.locator('main').textContent()) ?? '', new RegExp(device.started.user_code));
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(ALICE_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();

      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      const approval = (await page.locator('main').textContent()) ?? '';
      assert.match(approval, /Living-room TV/, 'the approval names the client');
      assert.ok(approval.includes(API), 'and the API');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.getByRole('heading', { name: 'Your device is signed in' }).waitFor();

      const outcome = await device.outcome;
      assert.ok('tokens' in outcome, JSON.stringify(outcome));
      const { payload } = await jwtVerify(
        outcome.tokens.access_token,
        createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)),
        { issuer: lock.issuer, audience: API },
      );
      assert.deepEqual(payload.roles, ['app_readwrite']);
      assert.equal(payload.client_id, 'tv-app');
      assert.deepEqual(violations, [], 'no Content-Security-Policy violation on the way');
      await page.close();
    } finally {
      device.kill();
    }
  });

  it('alice denies on the approval screen: the device is told access_denied', async () => {
    const device = await startDeviceClient({
      issuer: lock.issuer,
      clientId: 'tv-app',
      scope: 'openid read',
      resource: API,
    });
    try {
      const { page } = await newPage();
      // verification_uri_complete carries the code: the page goes straight to the confirmation.
      await page.goto(device.started.verification_uri_complete!);
      await page.getByRole('heading', { name: 'Is this your device?' }).waitFor();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(ALICE_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
      await page.getByRole('button', { name: 'Cancel' }).click();
      await page.getByText('You denied access').waitFor();
      const outcome = await device.outcome;
      assert.deepEqual('error' in outcome && outcome.error, 'access_denied');
      await page.close();
    } finally {
      device.kill();
    }
  });
});
