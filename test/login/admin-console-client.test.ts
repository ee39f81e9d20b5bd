import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { ADMIN_PASSWORD, consoleSignIn } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';

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
    const { accessToken } = await consoleSignIn(lock.issuer, username, password);
    const { payload } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)), {
      audience: `${lock.issuer}/admin`,
      typ: 'at+jwt',
    });
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
