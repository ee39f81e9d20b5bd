import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken, problemAt } from './admin-api.ts';

describe('admin API: signing keys and the audit log', () => {
  let lock: RunningLock;
  let api: AdminApi;

  before(async () => {
    lock = await startLock({ env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('lists the published keys with their state, public parts only', async () => {
    const keys = await api('GET', '/keys');
    assert.equal(keys.status, 200);
    assert.deepEqual(
      keys.body.items.map((key: { alg: string; state: string }) => `${key.alg} ${key.state}`).sort(),
      ['ES256 signing', 'EdDSA signing', 'RS256 signing'],
    );
    for (const key of keys.body.items) {
      assert.equal(key.publicJwk.kid, key.kid);
      for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi'])
        assert.equal(key.publicJwk[privateMember], undefined, `no ${privateMember} in a listed key`);
    }
  });

  it('rotates: the next keys are published at once and sign after the JWKS cache lifetime', async () => {
    const invalid = await api('POST', '/keys/rotate', { body: { algs: ['HS256'] } });
    assert.equal(invalid.status, 422);
    assert.ok(problemAt(invalid, 'algs[0]'));
    const rotated = await api('POST', '/keys/rotate', { body: { algs: ['ES256'] } });
    assert.equal(rotated.status, 201);
    const [added] = rotated.body.items;
    assert.equal(added.alg, 'ES256');
    const keys = await api('GET', '/keys');
    const next = keys.body.items.find((key: { kid: string }) => key.kid === added.kid);
    assert.equal(next.state, 'next');
    const jwks = (await (await fetch(`${lock.issuer}/jwks`)).json()) as { keys: Array<{ kid: string }> };
    assert.ok(
      jwks.keys.some((key) => key.kid === added.kid),
      'published in this process before the answer',
    );
    const all = await api('POST', '/keys/rotate');
    assert.equal(all.body.items.length, 3);
  });

  it('filters the audit log by type, actor and time, a page at a time', async () => {
    for (const name of ['audit_a', 'audit_b', 'audit_c']) await api('POST', '/roles', { body: { name } });
    const roles = await api('GET', '/audit-events?type=admin.role.created');
    assert.deepEqual(
      roles.body.items.map((event: { subject: string }) => event.subject),
      ['audit_c', 'audit_b', 'audit_a'],
      'newest first',
    );
    const [newest] = roles.body.items;
    assert.equal(newest.outcome, 'success');
    assert.match(newest.requestId, /\S/);

    const first = await api('GET', '/audit-events?type=admin.*&limit=2');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.next);
    const second = await api('GET', `/audit-events?type=admin.*&limit=2&cursor=${first.body.next}`);
    assert.ok(Number(second.body.items[0].id) < Number(first.body.items[1].id));

    const byActor = await api('GET', `/audit-events?actor=${encodeURIComponent(newest.actor)}&type=admin.*`);
    assert.ok(byActor.body.items.length >= 5);
    assert.equal((await api('GET', '/audit-events?actor=nobody')).body.items.length, 0);

    const later = new Date(Date.parse(newest.at) + 1000).toISOString();
    assert.equal((await api('GET', `/audit-events?from=${later}`)).body.items.length, 0);
    const window = await api('GET', `/audit-events?type=admin.role.created&to=${later}&from=${newest.at}`);
    assert.deepEqual(
      window.body.items.map((event: { subject: string }) => event.subject),
      ['audit_c'],
    );
    const logins = await api('GET', '/audit-events?type=login.*');
    assert.ok(logins.body.items.length > 0, 'login attempts are in the same log');
    assert.ok(logins.body.items.every((event: { type: string }) => event.type.startsWith('login.')));

    const badTime = await api('GET', '/audit-events?from=yesterday');
    assert.equal(badTime.status, 400);
    assert.ok(problemAt(badTime, 'from'));
    assert.equal((await api('GET', '/audit-events?bogus=1')).status, 400);
  });
});
