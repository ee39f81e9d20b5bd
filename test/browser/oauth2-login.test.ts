import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { refreshAt, upstreamLockConfig, verifyAccessToken } from '../connectors/upstream-flow.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { type ClientCallback, startClientCallback } from '../helpers/client-callback.ts';
import { GitHubLike } from '../helpers/github-like.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { API, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';

// A real browser: Lock's login page, "Sign in with GitHub", the GitHub-like server on another site
// (127.0.0.2) approving the user, back to Lock's /sso/github/callback, and on to the client.
describe('OAuth 2.0 (GitHub-like) login in headless Chromium', () => {
  let github: GitHubLike;
  let lock: RunningLock;
  let app: ClientCallback;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let clockOffsetMs = 0;

  before(async () => {
    github = await GitHubLike.start({
      users: [
        { id: 583231, login: 'octocat', email: 'octocat@example.com', name: 'Mona', orgs: ['all-staff'] },
      ],
    });
    app = await startClientCallback();
    lock = await startLock({
      now: () => new Date(Date.now() + clockOffsetMs),
      config: upstreamLockConfig(
        [
          {
            id: 'github',
            type: 'oauth2',
            name: 'GitHub',
            config: github.connectorConfig({ refreshInterval: 300 }),
          },
        ],
        { redirectUri: app.url },
      ),
    });
    github.redirectUris.add(`${lock.issuer}/sso/github/callback`);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await lock?.close();
    await lock?.database.drop();
    await github?.close();
    app?.close();
  });

  it('signs in through GitHub: roles from its organisations, idp the connector; refresh follows the upstream and ends with it', async () => {
    github.signedIn = 'octocat';
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: app.url, scope: 'openid profile email groups', resource: API },
    );
    const page = await browser.browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(request.url.toString());
    await page.getByRole('link', { name: 'Sign in with GitHub' }).click();
    await page.waitForURL((landed) => landed.toString().startsWith(app.url), { timeout: 15_000 });
    assert.equal(await page.locator('#done').textContent(), 'Signed in');
    assert.deepEqual(violations, []);
    await page.close();

    const tokens = await redeem(request, app.lastCallback()!);
    const claims = tokens.claims()!;
    assert.equal(claims.preferred_username, 'octocat');
    assert.equal(claims.name, 'Mona');
    assert.equal(claims.email, undefined, 'plain OAuth 2.0 does not vouch for the address');
    assert.deepEqual(claims.groups, ['all-staff']);

    const first = await verifyAccessToken(lock, tokens.access_token);
    assert.deepEqual(first.roles, ['app_readonly'], 'all-staff → app_readonly');
    assert.equal(first.idp, 'github');
    assert.equal(first.sub, claims.sub);

    // The user joins `admins` upstream: within refreshInterval Lock does not ask again…
    github.setOrgs('octocat', ['all-staff', 'admins']);
    const asked = github.hits.get('/user') ?? 0;
    const soon = await refreshAt(lock, tokens.refresh_token!);
    assert.deepEqual(soon.access?.roles, ['app_readonly'], JSON.stringify(soon));
    assert.equal(github.hits.get('/user') ?? 0, asked, 'not asked upstream within the interval');
    // …after it, the refresh follows the upstream.
    clockOffsetMs += 301_000;
    const later = await refreshAt(lock, soon.refreshToken!, clockOffsetMs / 1000);
    assert.deepEqual(later.access?.roles, ['app_admin', 'app_readonly'], JSON.stringify(later));
    assert.equal(later.access?.sub, claims.sub);

    // The user revokes Lock's authorization at GitHub: the next look upstream ends Lock's refresh.
    github.revokeTokensOf('octocat');
    clockOffsetMs += 301_000;
    const ended = await refreshAt(lock, later.refreshToken!, clockOffsetMs / 1000);
    assert.equal(ended.error, 'invalid_grant', JSON.stringify(ended));
  });
});
