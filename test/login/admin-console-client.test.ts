import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig, signIn } from '../helpers/login-fixtures.ts';
import { passSecondFactor } from '../helpers/second-factor.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const ADMIN_PASSWORD = 'the bootstrap admin passphrase';

describe('built-in admin console client and admin audience', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const adminToken = async (username: string, password: string) => {
    const config = await oidc.discovery(new URL(lock.issuer), 'lock-console', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${lock.issuer}/admin/callback`,
      scope: 'openid admin',
      resource: `${lock.issuer}/admin`,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const agent = new UserAgent(lock.issuer, (next) => next.pathname === '/admin/callback');
    const afterPassword = await signIn(agent, url.toString(), username, password);
    // lock_admin must use a second factor (LOCK_MFA_REQUIRED_ROLES): enrolled at the first sign-in.
    const { landed, html } = afterPassword.landed
      ? afterPassword
      : await passSecondFactor(agent, lock.issuer, username, afterPassword.html);
    assert.ok(landed?.startsWith(`${lock.issuer}/admin/callback?code=`), `landed on ${landed}: ${html}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed!), {
      pkceCodeVerifier: verifier,
    });
    const { payload } = await jwtVerify(
      tokens.access_token,
      createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)),
      {
        audience: `${lock.issuer}/admin`,
        typ: 'at+jwt',
      },
    );
    return payload;
  };

  it('gives the bootstrap admin a token for <issuer>/admin carrying lock_admin', async () => {
    const payload = await adminToken('admin', ADMIN_PASSWORD);
    assert.deepEqual(payload.roles, ['lock_admin']);
    assert.equal(payload.scope, 'admin');
  });

  it('gives a user without the role a token for the admin API with no roles', async () => {
    const payload = await adminToken('alice', ALICE_PASSWORD);
    assert.deepEqual(payload.roles, []);
  });
});
