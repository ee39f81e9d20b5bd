import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  CALLBACK,
  CLI_CALLBACK,
  loginConfig,
  signIn,
  WEB_SECRET,
} from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

describe('authorization code + PKCE with openid-client as the relying party', () => {
  let lock: RunningLock;
  let web: oidc.Configuration;
  let cli: oidc.Configuration;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const insecure = { execute: [oidc.allowInsecureRequests] };

  before(async () => {
    lock = await startLock({ config: loginConfig });
    web = await oidc.discovery(new URL(lock.issuer), 'web-app', WEB_SECRET, undefined, insecure);
    cli = await oidc.discovery(new URL(lock.issuer), 'cli-tool', undefined, oidc.None(), insecure);
    jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const authorize = async (
    config: oidc.Configuration,
    redirectUri: string,
    extra: Record<string, string> = { resource: API },
  ) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email groups read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    return { url: url.toString(), verifier, state };
  };

  /** RP-initiated logout as the browser does it: the confirmation page, then "Sign out". */
  const signOut = async (agent: UserAgent, idToken: string) => {
    const logout = oidc.buildEndSessionUrl(web, {
      id_token_hint: idToken,
      post_logout_redirect_uri: 'https://app.example.com/',
    });
    const confirm = await agent.follow(logout.toString());
    const page = await confirm.response.text();
    assert.match(page, /Sign out/);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /<form[^>]*action="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    return (await agent.follow(new URL(action, lock.issuer).toString(), { form: { xsrf, logout: 'yes' } }))
      .left;
  };

  it('confidential client: sign in, ID and access tokens with roles, userinfo, refresh, revoke, logout', async () => {
    const agent = new UserAgent(lock.issuer);
    const request = await authorize(web, CALLBACK);
    const { landed } = await signIn(agent, request.url, 'alice', ALICE_PASSWORD);
    assert.ok(landed?.startsWith(`${CALLBACK}?code=`), `landed on ${landed}`);

    const tokens = await oidc.authorizationCodeGrant(web, new URL(landed!), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
    });
    const idClaims = tokens.claims()!;
    assert.equal(idClaims.preferred_username, 'alice');
    assert.equal(idClaims.email, 'alice@example.com');
    assert.equal(idClaims.name, 'Alice Liddell');
    assert.deepEqual(idClaims.groups, ['editors']);
    assert.deepEqual(
      idClaims.roles,
      ['app_admin', 'app_readwrite'],
      'direct role, then mapped from the editors group',
    );
    await jwtVerify(tokens.id_token!, jwks, { issuer: lock.issuer, audience: 'web-app' });

    const access = await jwtVerify(tokens.access_token, jwks, {
      issuer: lock.issuer,
      audience: API,
      typ: 'at+jwt',
    });
    assert.equal(access.payload.sub, idClaims.sub);
    assert.equal(access.payload.client_id, 'web-app');
    assert.deepEqual(access.payload.roles, ['app_admin', 'app_readwrite']);
    assert.equal(access.payload.role, 'app_admin');
    assert.equal(access.payload.idp, 'local');
    assert.deepEqual(access.payload.amr, ['pwd']);
    assert.equal(typeof access.payload.auth_time, 'number');
    assert.equal(access.payload.scope, 'read');

    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!, { resource: API });
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate');
    const again = await jwtVerify(refreshed.access_token, jwks, { audience: API });
    assert.equal(again.payload.sub, idClaims.sub);

    await oidc.tokenRevocation(web, refreshed.refresh_token!);
    await assert.rejects(
      oidc.refreshTokenGrant(web, refreshed.refresh_token!),
      (error: oidc.ResponseBodyError) => {
        assert.equal(error.error, 'invalid_grant');
        return true;
      },
    );

    assert.equal(await signOut(agent, tokens.id_token!), 'https://app.example.com/');

    const silent = await authorize(web, CALLBACK, { prompt: 'none', resource: API });
    const after = await agent.follow(silent.url);
    assert.match(after.left!, /error=login_required/, 'the session ended with the logout');
  });

  // A refresh reads the account along with the token (one statement): what it reads must be the
  // account as it is at that moment, not as it was at sign-in or at an earlier refresh.
  it('each refresh reads the account as it is now: a role taken away, then a disabled account with its tokens kept', async () => {
    const agent = new UserAgent(lock.issuer);
    const request = await authorize(web, CALLBACK);
    const { landed } = await signIn(agent, request.url, 'alice', ALICE_PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(web, new URL(landed!), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
    });
    const first = await oidc.refreshTokenGrant(web, tokens.refresh_token!, { resource: API });
    assert.deepEqual((await jwtVerify(first.access_token, jwks, { audience: API })).payload.roles, [
      'app_admin',
      'app_readwrite',
    ]);
    const pool = lock.database.pool;
    await pool.query(
      "DELETE FROM user_roles WHERE role_name = 'app_admin' AND user_id = (SELECT id FROM users WHERE username = 'alice')",
    );
    try {
      const second = await oidc.refreshTokenGrant(web, first.refresh_token!, { resource: API });
      const access = await jwtVerify(second.access_token, jwks, { audience: API });
      assert.deepEqual(access.payload.roles, ['app_readwrite'], 'the direct role is gone at once');
      // Disabled behind Lock's back: its refresh tokens stay in the table, only the account says no.
      await pool.query("UPDATE users SET disabled = true WHERE username = 'alice'");
      await assert.rejects(
        oidc.refreshTokenGrant(web, second.refresh_token!, { resource: API }),
        (error: oidc.ResponseBodyError) => {
          assert.equal(error.error, 'invalid_grant');
          return true;
        },
      );
    } finally {
      await pool.query("UPDATE users SET disabled = false WHERE username = 'alice'");
      await pool.query(
        "INSERT INTO user_roles (user_id, role_name) SELECT id, 'app_admin' FROM users WHERE username = 'alice' ON CONFLICT DO NOTHING",
      );
    }
  });

  it('a refresh token bound to the session stops working when the user signs out', async () => {
    const agent = new UserAgent(lock.issuer);
    const request = await authorize(web, CALLBACK);
    const { landed } = await signIn(agent, request.url, 'alice', ALICE_PASSWORD);
    const tokens = await oidc.authorizationCodeGrant(web, new URL(landed!), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
    });
    const refreshed = await oidc.refreshTokenGrant(web, tokens.refresh_token!, { resource: API });
    await signOut(agent, tokens.id_token!);
    await assert.rejects(
      oidc.refreshTokenGrant(web, refreshed.refresh_token!, { resource: API }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
  });

  it('public client with PKCE: tokens without a secret; userinfo answers with the profile', async () => {
    const agent = new UserAgent(lock.issuer);
    const request = await authorize(cli, CLI_CALLBACK, { scope: 'openid profile' });
    const { landed, status, html } = await signIn(agent, request.url, 'alice', ALICE_PASSWORD);
    assert.ok(landed?.startsWith(`${CLI_CALLBACK}?code=`), `landed on ${landed} ${status} ${html}`);
    const tokens = await oidc.authorizationCodeGrant(cli, new URL(landed!), {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
    });
    assert.equal(tokens.claims()!.preferred_username, 'alice');
    assert.equal(tokens.claims()!.email, undefined, 'no email scope, no email claim');
    const userinfo = await oidc.fetchUserInfo(cli, tokens.access_token, tokens.claims()!.sub);
    assert.equal(userinfo.preferred_username, 'alice');
  });
});
