import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { sambaAd } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';

const SECRET = 'browser-ldap-secret-0123456789';

// A person signs in with their Active Directory account on Lock's login page, in a real browser.
describe('login page in headless Chromium: an Active Directory user', () => {
  const directory = sambaAd();
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    app = await startClientCallback();
    lock = await startLock({
      config: `
roles: [{ name: db_admin }, { name: db_reader }]
resources: [{ id: ${API}, scopes: [read], roles: [db_admin, db_reader], roleClaim: role, defaultRole: web_anon }]
clients:
  - { clientId: web-app, clientSecret: ${SECRET}, name: Web App, firstParty: true, redirectUris: ["${app.url}"], resources: [${API}] }
connectors:
  - id: corp-ad
    type: ldap
    name: Corporate directory
    config: ${JSON.stringify(directory.connectorConfig())}
  - { id: local, type: local, name: Lock account }
roleMappings:
  - { connector: corp-ad, group: "Équipe Nord", roles: [db_admin] }
  - { connector: corp-ad, group: all-staff, roles: [db_reader] }
`,
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    await directory.close();
    app?.close();
  });

  it('Zoë signs in with her directory password and the access token carries the mapped role', async () => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: SECRET },
      { redirect_uri: app.url, scope: 'openid profile groups read', resource: API },
    );
    const { url } = request;
    const page = await browser.browser.newPage();
    await page.goto(url.toString());

    await page.getByLabel('Username').fill('mallory');
    await page.getByLabel('Password').fill('Mallory-Passw0rd!');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /This account is disabled/);

    await page.getByLabel('Username').fill('zoe@example.test');
    await page.getByLabel('Password').fill('Zoe-Passw0rd!');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url));
    assert.equal(await page.locator('#done').textContent(), 'Signed in');

    const landed = app.lastCallback()!;
    const tokens = await redeem(request, landed);
    const idClaims = tokens.claims()!;
    assert.equal(idClaims.preferred_username, 'zoe');
    assert.equal(idClaims.name, 'Zoë Ångström');
    assert.deepEqual(idClaims.groups, ['Équipe Nord']);
    const access = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)), {
      issuer: lock.issuer,
      audience: API,
    });
    assert.deepEqual(access.payload.roles, ['db_admin']);
    assert.equal(access.payload.role, 'db_admin');
    assert.equal(access.payload.idp, 'corp-ad');
    await page.close();
  });
});
