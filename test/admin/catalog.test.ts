import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ADMIN_PASSWORD,
  type AdminApi,
  adminApi,
  assertNoSecretReturned,
  consoleToken,
  problemAt,
  responsesContaining,
} from './admin-api.ts';

const API_ID = 'https://orders-api.example.com';
const enc = encodeURIComponent;

describe('admin API: roles, resources, clients and role mappings', () => {
  let lock: RunningLock;
  let api: AdminApi;
  const generated: string[] = [];

  before(async () => {
    lock = await startLock({ config: tokenConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('creates, reads, replaces, patches and deletes a role, with ETags', async () => {
    const created = await api('POST', '/roles', {
      body: { name: 'orders_reader', description: 'Reads orders' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), '/admin/api/v1/roles/orders_reader');
    assert.deepEqual(created.body, {
      name: 'orders_reader',
      description: 'Reads orders',
      position: created.body.position,
      managedBy: null,
    });
    const read = await api('GET', '/roles/orders_reader');
    assert.equal(read.etag, created.etag);

    const list = await api('GET', '/roles');
    const names = list.body.items.map((role: { name: string }) => role.name);
    assert.deepEqual(
      names.filter((name: string) => name.startsWith('app_')),
      ['app_admin', 'app_readwrite', 'app_readonly'],
      'priority order',
    );
    assert.equal(names.at(-1), 'orders_reader', 'a new role goes last');
    assert.equal(list.body.items[0].managedBy, 'config');

    const replaced = await api('PUT', '/roles/orders_reader', {
      body: { ...read.body, description: 'Reads all orders' },
      ifMatch: read.etag!,
    });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.description, 'Reads all orders');
    assert.notEqual(replaced.etag, read.etag);

    const patched = await api('PATCH', '/roles/orders_reader', {
      body: { description: null, position: 0 },
      ifMatch: replaced.etag!,
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.description, undefined, 'null removes a member (RFC 7396)');
    assert.equal(patched.body.position, 0);

    const notModified = await api('GET', '/roles/orders_reader', {
      headers: { 'if-none-match': patched.etag! },
    });
    assert.equal(notModified.status, 304);

    const deleted = await api('DELETE', '/roles/orders_reader', { ifMatch: patched.etag! });
    assert.equal(deleted.status, 204);
    assert.equal((await api('GET', '/roles/orders_reader')).status, 404);
  });

  it('numbers roles by their place in priority order (no ties, no gaps) and moves one up or down', async () => {
    const order = async () =>
      (await api('GET', '/roles')).body.items.map((role: { name: string; position: number }) => [
        role.name,
        role.position,
      ]);
    const initial = await order();
    assert.deepEqual(
      initial.map(([, position]: [string, number]) => position),
      initial.map((_: unknown, index: number) => index),
      'positions are 0, 1, 2… whatever the declarative file and the bootstrap stored',
    );
    await api('POST', '/roles', { body: { name: 'mover_a' } });
    await api('POST', '/roles', { body: { name: 'mover_b' } });
    const b = await api('GET', '/roles/mover_b');
    const unchanged = await api('PUT', '/roles/mover_b', { body: b.body, ifMatch: b.etag! });
    assert.equal(unchanged.etag, b.etag, 'sending the position back as read moves nothing');
    const moved = await api('PATCH', '/roles/mover_b', {
      body: { position: b.body.position - 1 },
      ifMatch: b.etag!,
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(moved.status, 200);
    const after = await order();
    assert.deepEqual(after.slice(-2), [
      ['mover_b', after.length - 2],
      ['mover_a', after.length - 1],
    ]);
    const first = await api('PATCH', '/roles/mover_a', {
      body: { position: 0 },
      ifMatch: (await api('GET', '/roles/mover_a')).etag!,
      headers: { 'content-type': 'application/merge-patch+json' },
    });
    assert.equal(first.body.position, 0);
    const top = await order();
    assert.deepEqual(top[0], ['mover_a', 0]);
    assert.deepEqual(
      top.map(([, position]: [string, number]) => position),
      top.map((_: unknown, index: number) => index),
    );
    for (const name of ['mover_a', 'mover_b'])
      await api('DELETE', `/roles/${name}`, { ifMatch: (await api('GET', `/roles/${name}`)).etag! });
  });

  it('refuses a stale If-Match (412) and a change without one (428), and keeps the other admin’s change', async () => {
    const created = await api('POST', '/roles', { body: { name: 'contested' } });
    const first = await api('PUT', '/roles/contested', {
      body: { name: 'contested', description: 'first admin' },
      ifMatch: created.etag!,
    });
    assert.equal(first.status, 200);
    const second = await api('PUT', '/roles/contested', {
      body: { name: 'contested', description: 'second admin, from a stale read' },
      ifMatch: created.etag!,
    });
    assert.equal(second.status, 412);
    assert.match(second.body.error, /changed by someone else/);
    assert.equal((await api('GET', '/roles/contested')).body.description, 'first admin');

    const missing = await api('PUT', '/roles/contested', { body: { name: 'contested' } });
    assert.equal(missing.status, 428);
    assert.equal((await api('DELETE', '/roles/contested')).status, 428);
    assert.equal((await api('PATCH', '/roles/contested', { body: {} })).status, 428);
    const stalePatch = await api('PATCH', '/roles/contested', {
      body: { description: 'x' },
      ifMatch: created.etag!,
    });
    assert.equal(stalePatch.status, 412);
    const weak = await api('DELETE', '/roles/contested', { ifMatch: `W/${first.etag}` });
    assert.equal(weak.status, 412, 'If-Match compares strongly');
    assert.equal((await api('DELETE', '/roles/contested', { ifMatch: '*' })).status, 204);
  });

  it('names each invalid field, and answers 404 and 409 where they belong', async () => {
    const invalid = await api('POST', '/roles', { body: { name: 'has space', colour: 'red' } });
    assert.equal(invalid.status, 422);
    assert.match(problemAt(invalid, 'name')!.message, /letters, digits/);
    assert.match(problemAt(invalid, '')!.message, /unknown key "colour"/);

    const notJson = await api('POST', '/roles', {
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(notJson.status, 400);
    const wrongType = await api('POST', '/roles', {
      body: 'name=x',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(wrongType.status, 415);
    const empty = await api('POST', '/roles');
    assert.equal(empty.status, 400);

    const duplicate = await api('POST', '/roles', { body: { name: 'app_readonly' } });
    assert.equal(duplicate.status, 409);
    assert.equal(problemAt(duplicate, 'name')!.message, 'a role "app_readonly" already exists');

    const renamed = await api('PUT', '/roles/app_readonly', { body: { name: 'other' }, ifMatch: '*' });
    assert.equal(renamed.status, 422);
    assert.match(problemAt(renamed, 'name')!.message, /renaming is not supported/);

    assert.equal((await api('GET', '/roles/nope')).status, 404);
    assert.equal((await api('DELETE', '/roles/nope', { ifMatch: '*' })).status, 404);

    const inUse = await api('POST', '/roles', { body: { name: 'used_role' } });
    await api('POST', '/resources', { body: { id: API_ID, roles: ['used_role'] } });
    const blocked = await api('DELETE', '/roles/used_role', { ifMatch: inUse.etag! });
    assert.equal(blocked.status, 409);
    assert.match(blocked.body.error, /resource https:\/\/orders-api\.example\.com/);
    assert.equal((await api('DELETE', '/roles/lock_admin', { ifMatch: '*' })).status, 409);
  });

  it('shows what the declarative file owns, and refuses to change it through the API', async () => {
    const role = await api('GET', '/roles/app_admin');
    assert.equal(role.body.managedBy, 'config');
    const change = await api('PUT', '/roles/app_admin', { body: { name: 'app_admin' }, ifMatch: role.etag! });
    assert.equal(change.status, 409);
    assert.match(change.body.error, /declarative configuration file/);
    const client = await api('GET', '/clients/reporting-service');
    assert.equal(client.body.managedBy, 'config');
    assert.equal(client.body.hasSecret, true);
    assert.equal((await api('POST', '/clients/reporting-service/secret')).status, 409);
  });

  it('manages resources, with Lock’s own admin API shown as built in', async () => {
    const list = await api('GET', '/resources');
    const builtIn = list.body.items.find(
      (resource: { id: string }) => resource.id === `${lock.issuer}/admin`,
    );
    assert.deepEqual(builtIn.roles, ['lock_admin']);
    assert.equal(builtIn.managedBy, 'builtin');
    const own = await api('GET', `/resources/${enc(`${lock.issuer}/admin`)}`);
    assert.equal(
      (await api('DELETE', `/resources/${enc(`${lock.issuer}/admin`)}`, { ifMatch: own.etag! })).status,
      409,
    );

    const read = await api('GET', `/resources/${enc(API_ID)}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.accessTokenTTL, 300, 'defaults of the declarative schema');
    const badRole = await api('PUT', `/resources/${enc(API_ID)}`, {
      body: { ...read.body, roles: ['used_role', 'ghost'], signingAlg: 'HS256' },
      ifMatch: read.etag!,
    });
    assert.equal(badRole.status, 422);
    assert.match(problemAt(badRole, 'signingAlg')!.message, /must be one of "RS256", "ES256", "EdDSA"/);
    const unknownRole = await api('PUT', `/resources/${enc(API_ID)}`, {
      body: { ...read.body, roles: ['used_role', 'ghost'] },
      ifMatch: read.etag!,
    });
    assert.equal(unknownRole.status, 422);
    assert.equal(problemAt(unknownRole, 'roles[1]')!.message, 'unknown role "ghost"');
    const updated = await api('PUT', `/resources/${enc(API_ID)}`, {
      body: { ...read.body, scopes: ['orders:read'], roleClaim: 'role', signingAlg: 'EdDSA' },
      ifMatch: read.etag!,
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.signingAlg, 'EdDSA');
  });

  it('creates a client whose secret is shown once, works at once, and rotates', async () => {
    const invalid = await api('POST', '/clients', {
      body: {
        clientId: 'orders-job',
        grantTypes: ['client_credentials'],
        resources: ['not a url'],
        clientSecret: 'mine-mine-mine-mine',
      },
    });
    assert.equal(invalid.status, 422);
    assert.match(problemAt(invalid, 'clientSecret')!.message, /generated by Lock/);
    const badRefs = await api('POST', '/clients', {
      body: {
        clientId: 'orders-job',
        grantTypes: ['client_credentials', 'password'],
        redirectUris: ['https://x/#frag'],
      },
    });
    assert.equal(badRefs.status, 422);
    assert.ok(problemAt(badRefs, 'grantTypes[1]'));
    assert.ok(problemAt(badRefs, 'redirectUris[0]'));

    const created = await api('POST', '/clients', {
      body: {
        clientId: 'orders-job',
        grantTypes: ['client_credentials'],
        roles: ['used_role'],
        resources: [API_ID],
      },
    });
    assert.equal(created.status, 201, created.text);
    const secret = created.body.clientSecret as string;
    generated.push(secret);
    assert.ok(secret.length >= 43);
    assert.equal(created.body.hasSecret, true);

    const token = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: API_ID },
      ['orders-job', secret],
    );
    assert.equal(token.status, 200, 'the new client gets tokens without a restart');
    const { payload } = await jwtVerify(
      token.body.access_token as string,
      createRemoteJWKSet(new URL(`${lock.issuer}/jwks`)),
      { audience: API_ID },
    );
    assert.deepEqual(payload.roles, ['used_role']);
    assert.equal(payload.role, 'used_role');

    const read = await api('GET', '/clients/orders-job');
    assert.equal(read.body.clientSecret, undefined);
    const rotated = await api('POST', '/clients/orders-job/secret', { ifMatch: read.etag! });
    assert.equal(rotated.status, 200);
    const newSecret = rotated.body.clientSecret as string;
    generated.push(newSecret);
    assert.notEqual(newSecret, secret);
    assert.notEqual(rotated.etag, read.etag, 'a new secret is a new version');
    const stale = await api('POST', '/clients/orders-job/secret', { ifMatch: read.etag! });
    assert.equal(stale.status, 412);

    const old = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: API_ID },
      ['orders-job', secret],
    );
    assert.equal(old.status, 401, 'the old secret stops working');
    const fresh = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: API_ID },
      ['orders-job', newSecret],
    );
    assert.equal(fresh.status, 200);

    const patched = await api('PATCH', '/clients/orders-job', {
      body: { name: 'Orders job' },
      ifMatch: rotated.etag!,
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'Orders job');
    assert.equal(patched.body.clientSecret, undefined, 'an update keeps the secret and does not show it');

    const blocked = await api('DELETE', `/resources/${enc(API_ID)}`, { ifMatch: '*' });
    assert.equal(blocked.status, 409, 'a resource a client uses stays');
    assert.equal((await api('DELETE', '/clients/orders-job', { ifMatch: patched.etag! })).status, 204);
    assert.equal((await api('GET', '/clients/orders-job')).status, 404);
  });

  it('turns a public client confidential with a new secret, and lists Lock’s console as built in', async () => {
    const created = await api('POST', '/clients', {
      body: { clientId: 'spa', public: true, redirectUris: ['https://spa.example.com/cb'] },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.clientSecret, undefined);
    assert.equal(created.body.hasSecret, false);
    const confidential = await api('PUT', '/clients/spa', {
      body: { ...created.body, public: false },
      ifMatch: created.etag!,
    });
    assert.equal(confidential.status, 200, confidential.text);
    assert.equal(typeof confidential.body.clientSecret, 'string');
    generated.push(confidential.body.clientSecret);
    const list = await api('GET', '/clients');
    const console = list.body.items.find(
      (client: { clientId: string }) => client.clientId === 'lock-console',
    );
    assert.equal(console.managedBy, 'builtin');
    assert.equal(
      (
        await api('POST', '/clients', {
          body: { clientId: 'lock-console', public: true, redirectUris: ['https://x.example/cb'] },
        })
      ).status,
      409,
    );
  });

  it('manages role mappings by connector and group (percent-encoded)', async () => {
    const group = 'CN=Order Admins,OU=Groups/EU,DC=example,DC=com';
    const created = await api('POST', '/role-mappings', {
      body: { connector: '*', group, roles: ['used_role'] },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('location'), `/admin/api/v1/role-mappings/*/${enc(group)}`);
    const path = `/role-mappings/*/${enc(group)}`;
    const read = await api('GET', path);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.roles, ['used_role']);
    const unknownConnector = await api('POST', '/role-mappings', {
      body: { connector: 'nowhere', group: 'g', roles: ['used_role'] },
    });
    assert.equal(unknownConnector.status, 422);
    assert.equal(problemAt(unknownConnector, 'connector')!.message, 'unknown connector "nowhere"');
    const empty = await api('PUT', path, { body: { ...read.body, roles: [] }, ifMatch: read.etag! });
    assert.equal(empty.status, 422);
    assert.ok(problemAt(empty, 'roles'));
    const replaced = await api('PUT', path, {
      body: { connector: '*', group, roles: ['used_role', 'app_readonly'] },
      ifMatch: read.etag!,
    });
    assert.equal(replaced.status, 200);
    assert.equal(
      (await api('POST', '/role-mappings', { body: { connector: '*', group, roles: ['used_role'] } })).status,
      409,
    );
    assert.equal((await api('DELETE', path, { ifMatch: replaced.etag! })).status, 204);
  });

  it('records every change as an audit event with what changed, and no secret', async () => {
    const events = await api('GET', '/audit-events?type=admin.*&limit=200');
    const types = new Set(events.body.items.map((event: { type: string }) => event.type));
    for (const type of [
      'admin.role.created',
      'admin.role.updated',
      'admin.role.deleted',
      'admin.resource.created',
      'admin.resource.updated',
      'admin.client.created',
      'admin.client.updated',
      'admin.client.secret_rotated',
      'admin.client.deleted',
      'admin.role_mapping.created',
      'admin.role_mapping.updated',
      'admin.role_mapping.deleted',
    ])
      assert.ok(types.has(type), `missing ${type}`);
    const update = events.body.items.find(
      (event: { type: string; subject: string }) => event.type === 'admin.resource.updated',
    );
    assert.deepEqual(
      update.details.changes.find((change: { path: string }) => change.path === 'signingAlg'),
      { path: 'signingAlg', from: 'RS256', to: 'EdDSA' },
    );
  });

  it('never returned a secret, and each generated one exactly once', () => {
    for (const secret of generated) assert.equal(responsesContaining(secret), 1);
    assertNoSecretReturned([SECRET, ADMIN_PASSWORD]);
  });
});
