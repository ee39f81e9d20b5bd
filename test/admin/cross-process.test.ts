import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { API } from '../helpers/login-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken, eventually } from './admin-api.ts';

describe('admin API: two Lock processes on one database', () => {
  let first: RunningLock;
  let second: RunningLock;
  let api: AdminApi;

  before(async () => {
    first = await startLock({ config: tokenConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    // As behind a load balancer: one issuer, two processes (each on a port of its own here).
    second = await startLock({
      database: first.database,
      keysDir: first.keysDir,
      env: { LOCK_ISSUER: first.issuer },
    });
    api = adminApi(first.issuer, await consoleToken(first.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await second.close();
    await first.close();
    await first.database.drop();
  });

  const tokenFrom = (lock: RunningLock, clientId: string, secret: string) =>
    postForm(`${lock.issuer}/token`, { grant_type: 'client_credentials', resource: API }, [clientId, secret]);

  it('serves a client made through one process from the other within a second', async () => {
    const created = await api('POST', '/clients', {
      body: {
        clientId: 'made-on-first',
        grantTypes: ['client_credentials'],
        roles: ['app_readonly'],
        resources: [API],
      },
    });
    assert.equal(created.status, 201);
    const secret = created.body.clientSecret as string;
    const started = Date.now();
    const token = await eventually('the second process issues a token', async () => {
      const response = await tokenFrom(second, 'made-on-first', secret);
      return response.status === 200 ? response : undefined;
    });
    assert.ok(Date.now() - started < 1000);
    assert.equal(token.body.token_type, 'Bearer');

    const rotated = await api('POST', '/clients/made-on-first/secret');
    await eventually('the second process refuses the old secret', async () =>
      (await tokenFrom(second, 'made-on-first', secret)).status === 401 ? true : undefined,
    );
    assert.equal((await tokenFrom(second, 'made-on-first', rotated.body.clientSecret)).status, 200);

    await api('DELETE', '/clients/made-on-first', { ifMatch: '*' });
    await eventually('the second process forgets the deleted client', async () =>
      (await tokenFrom(second, 'made-on-first', rotated.body.clientSecret)).status === 401 ? true : undefined,
    );
  });

  it('accepts an admin token issued by one process on the other, and sees its changes at once', async () => {
    const other = adminApi(second.issuer, await consoleToken(first.issuer, 'admin', ADMIN_PASSWORD));
    const role = await api('POST', '/roles', { body: { name: 'seen_everywhere' } });
    assert.equal(role.status, 201);
    const read = await other('GET', '/roles/seen_everywhere');
    assert.equal(read.status, 200);
    assert.equal(read.etag, role.etag, 'the same stored version, the same ETag');
    const changed = await other('PATCH', '/roles/seen_everywhere', {
      body: { description: 'from the second' },
      ifMatch: read.etag!,
    });
    assert.equal(changed.status, 200);
    const stale = await api('PATCH', '/roles/seen_everywhere', {
      body: { description: 'lost update' },
      ifMatch: role.etag!,
    });
    assert.equal(stale.status, 412, 'an edit based on the first process’s read loses to the second’s change');
  });
});
