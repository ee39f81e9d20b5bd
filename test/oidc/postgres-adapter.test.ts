import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PostgresAdapter, sweepExpired } from '../../src/oidc/postgres-adapter.ts';
import { AccountCache } from '../../src/store/account-cache.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The contract oidc-provider relies on, for every model it stores (its own in-memory adapter's
// behaviour, against real PostgreSQL). ReplayDetection (a client assertion's jti) is saved once,
// never updated: it has its own test below.
const MODELS = [
  'Session',
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'ClientCredentials',
  'Interaction',
  'PushedAuthorizationRequest',
  'Grant',
  'BackchannelAuthenticationRequest',
];

describe('PostgreSQL adapter contract', () => {
  let database: TestDatabase;
  const adapter = (model: string) => new PostgresAdapter(database.pool, model, new AccountCache());
  const expire = (model: string, id: string) =>
    database.pool.query(
      "UPDATE oidc_payloads SET expires_at = now() - interval '1 second' WHERE model = $1 AND id = $2",
      [model, id],
    );

  before(async () => {
    database = await createTestDatabase();
  });
  beforeEach(() => database.pool.query('DELETE FROM oidc_payloads'));
  after(() => database.drop());

  it('ReplayDetection: a live jti is saved once, also when 40 saves race; an expired one may be saved again', async () => {
    const store = adapter('ReplayDetection');
    await store.upsert('j1', { jti: 'j1', iss: 'client' }, 60);
    assert.deepEqual(await store.find('j1'), { jti: 'j1', iss: 'client' });
    await assert.rejects(store.upsert('j1', { jti: 'j1', iss: 'client' }, 60), { error: 'invalid_client' });
    const racing = await Promise.allSettled(
      Array.from({ length: 40 }, () => store.upsert('j2', { jti: 'j2', iss: 'client' }, 60)),
    );
    assert.equal(racing.filter((outcome) => outcome.status === 'fulfilled').length, 1, 'one save wins');
    await expire('ReplayDetection', 'j1');
    await store.upsert('j1', { jti: 'j1', iss: 'client' }, 60);
    assert.deepEqual(await store.find('j1'), { jti: 'j1', iss: 'client' });
  });

  for (const model of MODELS) {
    it(`${model}: upsert, find, update, consume, destroy`, async () => {
      const store = adapter(model);
      assert.equal(await store.find('a'), undefined);
      await store.upsert('a', { kind: model, grantId: 'g1', jti: 'a' }, 60);
      assert.deepEqual(await store.find('a'), { kind: model, grantId: 'g1', jti: 'a' });
      await store.upsert('a', { kind: model, grantId: 'g1', jti: 'a', scope: 'openid' }, 60);
      assert.deepEqual(await store.find('a'), { kind: model, grantId: 'g1', jti: 'a', scope: 'openid' });
      assert.equal(
        await adapter(model === 'Session' ? 'Grant' : 'Session').find('a'),
        undefined,
        'models do not share ids',
      );
      await store.consume('a');
      const consumed = await store.find('a');
      assert.equal(typeof consumed?.consumed, 'number');
      assert.ok(Math.abs((consumed!.consumed as number) - Date.now() / 1000) < 5);
      await assert.rejects(store.consume('a'), { error: 'invalid_grant' }, 'a second consume is refused');
      await store.destroy('a');
      assert.equal(await store.find('a'), undefined);
    });
  }

  it('finds sessions by uid and device codes by user code', async () => {
    await adapter('Session').upsert('s1', { uid: 'u-1', accountId: 'x' }, 60);
    assert.deepEqual(await adapter('Session').findByUid('u-1'), { uid: 'u-1', accountId: 'x' });
    assert.equal(await adapter('Session').findByUid('u-2'), undefined);
    await adapter('DeviceCode').upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g' }, 60);
    assert.deepEqual(await adapter('DeviceCode').findByUserCode('ABCD-EFGH'), {
      userCode: 'ABCD-EFGH',
      grantId: 'g',
    });
  });

  it('consumes once under concurrency: every other consume is a reuse that revokes the grant', async () => {
    await adapter('Grant').upsert('g1', { accountId: 'x' }, 60);
    await adapter('Grant').upsert('g2', { accountId: 'x' }, 60);
    await adapter('AuthorizationCode').upsert('c1', { grantId: 'g1' }, 60);
    await adapter('AccessToken').upsert('t1', { grantId: 'g1' }, 60);
    await adapter('RefreshToken').upsert('r1', { grantId: 'g1' }, 60);
    await adapter('AccessToken').upsert('t2', { grantId: 'g2' }, 60);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => adapter('AuthorizationCode').consume('c1')),
    );
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    for (const outcome of outcomes.filter((outcome) => outcome.status === 'rejected'))
      assert.equal((outcome.reason as { error?: string }).error, 'invalid_grant');
    for (const [model, id] of [
      ['Grant', 'g1'],
      ['AuthorizationCode', 'c1'],
      ['AccessToken', 't1'],
      ['RefreshToken', 'r1'],
    ] as const)
      assert.equal(await adapter(model).find(id), undefined, `${model} ${id} went with its grant`);
    assert.ok(await adapter('Grant').find('g2'), 'another grant stays');
    assert.ok(await adapter('AccessToken').find('t2'), "another grant's token stays");
  });

  it('revokes by grant id within the model only', async () => {
    await adapter('AccessToken').upsert('t1', { grantId: 'g1' }, 60);
    await adapter('AccessToken').upsert('t2', { grantId: 'g2' }, 60);
    await adapter('RefreshToken').upsert('r1', { grantId: 'g1' }, 60);
    await adapter('AccessToken').revokeByGrantId('g1');
    assert.equal(await adapter('AccessToken').find('t1'), undefined);
    assert.deepEqual(await adapter('AccessToken').find('t2'), { grantId: 'g2' });
    assert.deepEqual(await adapter('RefreshToken').find('r1'), { grantId: 'g1' });
  });

  it('hides expired rows at once and sweeps them later; no expiry means none', async () => {
    await adapter('AccessToken').upsert('old', { uid: 'old-uid' }, 60);
    await adapter('AccessToken').upsert('live', {}, 60);
    await adapter('Grant').upsert('forever', {}, 0);
    await expire('AccessToken', 'old');
    assert.equal(await adapter('AccessToken').find('old'), undefined);
    assert.equal(await adapter('AccessToken').findByUid('old-uid'), undefined);
    assert.equal(await sweepExpired(database.pool), 1);
    const { rows } = await database.pool.query<{ id: string }>('SELECT id FROM oidc_payloads ORDER BY id');
    assert.deepEqual(
      rows.map((row) => row.id),
      ['forever', 'live'],
    );
  });
});
