import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { type AuthorizationRequest, redeem, startAuthorization } from '../helpers/relying-party.ts';
import {
  oidcLockConfig,
  peerConnectorConfig,
  registerUpstreamClient,
  UPSTREAM_PEOPLE,
  upstreamAdmin,
  upstreamOidc,
} from '../helpers/upstream-oidc.ts';

// A real browser: Lock's login page, "Sign in with Corporate SSO", the upstream OpenID provider's
// form on another site (127.0.0.3), its redirect to Lock's /sso/corp/callback, and back to the client.
describe('upstream OpenID Connect login in headless Chromium', () => {
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  before(async () => {
    app = await startClientCallback();
    const client = await registerUpstreamClient('corp');
    lock = await startLock({
      config: oidcLockConfig({
        connectorId: 'corp',
        redirectUri: app.url,
        // Every Lock refresh re-reads the person upstream: the test need not wait out an interval.
        connectorConfig: peerConnectorConfig(client, { refreshInterval: 0 }),
      }),
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    app?.close();
  });

  const authorize = () =>
    startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile email groups', resource: API },
    );

  /** Chromium clicks the connector's button on Lock's page and signs in at the upstream. */
  async function signInWithChromium(
    request: AuthorizationRequest,
    person: { username: string; password: string },
  ) {
    const page = await browser.browser.newPage();
    try {
      await page.goto(request.url.toString());
      await page.getByRole('link', { name: 'Sign in with Corporate SSO' }).click();
      await page.waitForURL((at) => at.origin === upstreamOidc().issuer);
      await page.locator('input[name="username"]').fill(person.username);
      await page.locator('input[name="password"]').fill(person.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL((landed) => landed.toString().startsWith(app.url), { timeout: 15_000 });
      assert.equal(await page.locator('#done').textContent(), 'Signed in');
      return redeem(request, app.lastCallback()!);
    } finally {
      await page.close();
    }
  }

  it('signs a person in through the upstream: roles from upstream groups, idp = the connector id, a verified email', async () => {
    const tokens = await signInWithChromium(await authorize(), UPSTREAM_PEOPLE.ada);
    const id = tokens.claims()!;
    assert.equal(id.preferred_username, 'ada');
    assert.equal(id.name, 'Ada Lovelace');
    assert.equal(id.email, UPSTREAM_PEOPLE.ada.email);
    assert.equal(id.email_verified, true, 'the upstream verified the email: Lock says so');
    assert.deepEqual(id.groups, ['engineers', 'db-admins']);
    assert.equal(id.idp, 'corp');
    const access = decodeJwt(tokens.access_token);
    assert.equal(access.idp, 'corp');
    assert.deepEqual(access.roles, ['app_admin', 'app_readonly']);
    assert.equal(access.sub, id.sub, 'one Lock subject per upstream person');
    assert.notEqual(id.sub, UPSTREAM_PEOPLE.ada.sub, 'Lock mints its own subject');
  });

  it('a Lock refresh follows the upstream: a group change shows up, a revocation ends it', async () => {
    const person = { username: `pat-${randomBytes(4).toString('hex')}`, password: 'pat-password' };
    await upstreamAdmin.addPerson({
      ...person,
      groups: ['engineers'],
      email: `${person.username}@upstream.test`,
      emailVerified: true,
    });
    const request = await authorize();
    const tokens = await signInWithChromium(request, person);
    assert.deepEqual(decodeJwt(tokens.access_token).roles, ['app_readonly']);

    await upstreamAdmin.setGroups(person.username, ['db-admins']);
    const refreshed = await oidc.refreshTokenGrant(request.config, tokens.refresh_token!, { resource: API });
    assert.deepEqual(
      decodeJwt(refreshed.access_token).roles,
      ['app_admin'],
      'the new upstream groups map to new roles',
    );
    assert.equal(decodeJwt(refreshed.access_token).idp, 'corp');

    await upstreamAdmin.revoke(person.username);
    await assert.rejects(
      oidc.refreshTokenGrant(request.config, refreshed.refresh_token!, { resource: API }),
      (error: { error?: string }) => error.error === 'invalid_grant',
      'the upstream refused the refresh: so does Lock',
    );
  });

  it('a person disabled upstream gets no more tokens from Lock', async () => {
    const person = { username: `kim-${randomBytes(4).toString('hex')}`, password: 'kim-password' };
    await upstreamAdmin.addPerson({ ...person, groups: ['engineers'] });
    const request = await authorize();
    const tokens = await signInWithChromium(request, person);
    await upstreamAdmin.disable(person.username);
    await assert.rejects(
      oidc.refreshTokenGrant(request.config, tokens.refresh_token!, { resource: API }),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
  });
});
