import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, CALLBACK, loginConfig, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

describe('audit events', () => {
  let lock: RunningLock;
  let web: oidc.Configuration;
  before(async () => {
    lock = await startLock({ config: loginConfig });
    web = await oidc.discovery(new URL(lock.issuer), 'web-app', WEB_SECRET, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const types = async () =>
    (
      await lock.database.pool.query<{ type: string; outcome: string }>(
        'SELECT type, outcome FROM audit_events ORDER BY id',
      )
    ).rows.map((row) => `${row.type}:${row.outcome}`);
  const waitForType = async (type: string) => {
    for (let attempt = 0; attempt < 40; attempt++) {
      if ((await types()).some((entry) => entry.startsWith(`${type}:`))) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.fail(`no ${type} event in ${(await types()).join(', ')}`);
  };

  it('records sign-ins, refresh-token reuse, revocation and logout', async () => {
    const agent = new UserAgent(lock.issuer);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(web, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      resource: API,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    await signIn(new UserAgent(lock.issuer), url.toString(), 'alice', 'a wrong password');
    const { landed } = await signIn(agent, url.toString(), 'alice', ALICE_PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(web, new URL(landed!), { pkceCodeVerifier: verifier });
    const rotated = await oidc.refreshTokenGrant(web, tokens.refresh_token!);
    await assert.rejects(oidc.refreshTokenGrant(web, tokens.refresh_token!));
    await waitForType('token.refresh_reuse_detected');

    const second = await signIn(agent, url.toString(), 'alice', ALICE_PASSWORD);
    const more = await oidc.authorizationCodeGrant(web, new URL(second.landed!), {
      pkceCodeVerifier: verifier,
    });
    await oidc.tokenRevocation(web, more.refresh_token!);
    await waitForType('token.revoked');
    assert.ok(rotated.refresh_token);

    const logout = oidc.buildEndSessionUrl(web, {
      id_token_hint: more.id_token!,
      post_logout_redirect_uri: 'https://app.example.com/',
    });
    const confirm = await agent.follow(logout.toString());
    const page = await confirm.response.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /<form[^>]*action="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    await agent.follow(new URL(action, lock.issuer).toString(), { form: { xsrf, logout: 'yes' } });
    await waitForType('logout');

    const recorded = await types();
    assert.ok(recorded.includes('login.password:failure'), recorded.join(', '));
    assert.ok(recorded.includes('login.password:success'), recorded.join(', '));
    assert.ok(recorded.includes('token.refresh_reuse_detected:failure'), recorded.join(', '));
    const { rows } = await lock.database.pool.query('SELECT details::text AS details FROM audit_events');
    for (const row of rows)
      assert.doesNotMatch(row.details, /eyJ|refresh_token|password/i, 'no token or password in an audit row');
  });
});
