import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as oidc from 'openid-client';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig, signInToWebApp } from '../helpers/login-fixtures.ts';
import {
  ADMIN_PASSWORD,
  type AdminApi,
  adminApi,
  assertNoSecretReturned,
  consoleToken,
  problemAt,
} from './admin-api.ts';

const ERIN_PASSWORD = 'erin has a long enough passphrase';
const ERIN_NEW_PASSWORD = 'erin chose another long passphrase';

describe('admin API: users and groups', () => {
  let lock: RunningLock;
  let api: AdminApi;
  let erin: string;

  const signInAs = (username: string, password: string) => signInToWebApp(lock.issuer, username, password);

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('creates a user who can sign in at once, with roles from direct grants and group mappings', async () => {
    const weak = await api('POST', '/users', { body: { username: 'erin', password: 'password123' } });
    assert.equal(weak.status, 422);
    assert.match(problemAt(weak, 'password')!.message, /common/i);
    const hash = await api('POST', '/users', {
      body: { username: 'erin', passwordHash: '$argon2id$v=19$x' },
    });
    assert.equal(hash.status, 422);
    assert.ok(problemAt(hash, 'passwordHash'));
    const badRole = await api('POST', '/users', { body: { username: 'erin', roles: ['ghost'] } });
    assert.equal(badRole.status, 422);
    assert.match(problemAt(badRole, 'roles')!.message, /ghost/);

    const created = await api('POST', '/users', {
      body: {
        username: 'erin',
        email: 'erin@example.com',
        name: 'Erin',
        password: ERIN_PASSWORD,
        groups: ['editors'],
        roles: ['app_readonly'],
      },
    });
    assert.equal(created.status, 201, created.text);
    erin = created.body.id;
    assert.equal(created.headers.get('location'), `/admin/api/v1/users/${erin}`);
    assert.equal(created.body.hasPassword, true);
    assert.equal(created.body.password, undefined);
    assert.deepEqual(created.body.roles, ['app_readonly']);
    assert.deepEqual(created.body.effectiveRoles, ['app_readwrite', 'app_readonly']);

    const { tokens } = await signInAs('erin', ERIN_PASSWORD);
    assert.deepEqual(decodeJwt(tokens!.access_token).roles, ['app_readwrite', 'app_readonly']);
    assert.equal((await api('POST', '/users', { body: { username: 'ERIN' } })).status, 409);
  });

  it('replaces and patches a user under If-Match, and renames them', async () => {
    const read = await api('GET', `/users/${erin}`);
    const replaced = await api('PUT', `/users/${erin}`, {
      body: { ...read.body, username: 'erin.w', groups: [], roles: ['app_admin'] },
      ifMatch: read.etag!,
    });
    assert.equal(replaced.status, 200, replaced.text);
    assert.equal(replaced.body.username, 'erin.w');
    assert.deepEqual(replaced.body.effectiveRoles, ['app_admin']);
    assert.equal(replaced.body.hasPassword, true, 'a PUT without password keeps it');
    const stale = await api('PATCH', `/users/${erin}`, { body: { name: 'E.' }, ifMatch: read.etag! });
    assert.equal(stale.status, 412);
    const taken = await api('PATCH', `/users/${erin}`, {
      body: { username: 'Alice' },
      ifMatch: replaced.etag!,
    });
    assert.equal(taken.status, 409);
    assert.ok(problemAt(taken, 'username'));
    assert.equal((await api('GET', `/users/${erin}`)).etag, replaced.etag);
    assert.equal((await api('GET', '/users/not-a-uuid')).status, 404);
    assert.equal((await api('GET', '/users/00000000-0000-4000-8000-000000000000')).status, 404);
  });

  it('sets a password, and disabling ends the user’s sessions and refresh tokens', async () => {
    const weak = await api('POST', `/users/${erin}/password`, { body: { password: 'short' } });
    assert.equal(weak.status, 422);
    const set = await api('POST', `/users/${erin}/password`, { body: { password: ERIN_NEW_PASSWORD } });
    assert.equal(set.status, 200);
    assert.equal((await signInAs('erin.w', ERIN_PASSWORD)).tokens, undefined);
    const { tokens, config } = await signInAs('erin.w', ERIN_NEW_PASSWORD);
    assert.ok(tokens?.refresh_token);

    const disabled = await api('POST', `/users/${erin}/disable`);
    assert.equal(disabled.status, 200);
    assert.equal(disabled.body.disabled, true);
    await assert.rejects(
      oidc.refreshTokenGrant(config, tokens.refresh_token),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
    );
    assert.match((await signInAs('erin.w', ERIN_NEW_PASSWORD)).html, /This account is disabled/);
    const enabled = await api('POST', `/users/${erin}/enable`);
    assert.equal(enabled.body.disabled, false);
    assert.ok((await signInAs('erin.w', ERIN_NEW_PASSWORD)).tokens);
  });

  it('leaves the file’s users to the file, except for disabling and passwords', async () => {
    const list = await api('GET', '/users?search=alice');
    const alice = list.body.items[0];
    assert.equal(alice.username, 'alice');
    assert.equal(alice.managedBy, 'config');
    const read = await api('GET', `/users/${alice.id}`);
    const change = await api('PATCH', `/users/${alice.id}`, { body: { name: 'A.' }, ifMatch: read.etag! });
    assert.equal(change.status, 409);
    assert.match(change.body.error, /declarative configuration file/);
    assert.equal((await api('POST', `/users/${alice.id}/disable`)).status, 200);
    assert.equal((await api('POST', `/users/${alice.id}/enable`)).status, 200);
    assert.ok((await signInAs('alice', ALICE_PASSWORD)).tokens);
  });

  it('lists users a page at a time', async () => {
    for (const username of ['page-a', 'page-b', 'page-c'])
      assert.equal((await api('POST', '/users', { body: { username } })).status, 201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<AdminApi>> = await api(
        'GET',
        `/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.status, 200);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((user: { username: string }) => user.username));
      cursor = page.body.next;
    } while (cursor);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    assert.ok(
      ['admin', 'alice', 'bob', 'carol', 'erin.w', 'page-a', 'page-b', 'page-c'].every((u) =>
        seen.includes(u),
      ),
    );
    const bad = await api('GET', '/users?limit=0');
    assert.equal(bad.status, 400);
    assert.ok(problemAt(bad, 'limit'));
    assert.equal((await api('GET', '/users?cursor=bogus')).status, 400);
  });

  it('manages groups and members, which change roles through mappings', async () => {
    const created = await api('POST', '/groups', { body: { name: 'editors-eu' } });
    assert.equal(created.status, 201);
    assert.equal((await api('POST', '/groups', { body: { name: 'editors-eu' } })).status, 409);
    assert.equal((await api('POST', '/groups', { body: { name: '' } })).status, 422);
    await api('POST', '/role-mappings', {
      body: { connector: 'local', group: 'editors-eu', roles: ['app_readwrite'] },
    });
    const added = await api('PUT', `/groups/editors-eu/members/${erin}`);
    assert.equal(added.status, 200);
    assert.deepEqual(added.body.members, [{ id: erin, username: 'erin.w' }]);
    assert.equal((await api('PUT', `/groups/editors-eu/members/${erin}`)).status, 200, 'idempotent');
    const user = await api('GET', `/users/${erin}`);
    assert.deepEqual(user.body.groups, ['editors-eu']);
    assert.deepEqual(user.body.effectiveRoles, ['app_admin', 'app_readwrite']);
    const list = await api('GET', '/groups');
    assert.equal(
      list.body.items.find((group: { name: string }) => group.name === 'editors-eu').memberCount,
      1,
    );
    assert.equal((await api('PUT', `/groups/nope/members/${erin}`)).status, 404);
    const removed = await api('DELETE', `/groups/editors-eu/members/${erin}`);
    assert.deepEqual(removed.body.members, []);
    const group = await api('GET', '/groups/editors-eu');
    assert.equal((await api('DELETE', '/groups/editors-eu')).status, 428);
    assert.equal((await api('DELETE', '/groups/editors-eu', { ifMatch: group.etag! })).status, 204);
  });

  it('deletes a user, ending their sessions', async () => {
    const read = await api('GET', `/users/${erin}`);
    assert.equal((await api('DELETE', `/users/${erin}`, { ifMatch: read.etag! })).status, 204);
    assert.equal((await api('GET', `/users/${erin}`)).status, 404);
    assert.equal((await signInAs('erin.w', ERIN_NEW_PASSWORD)).tokens, undefined);
    const events = await api('GET', `/audit-events?type=admin.user.*&limit=200`);
    const types = events.body.items.map((event: { type: string }) => event.type);
    for (const type of ['created', 'updated', 'password_set', 'disabled', 'enabled', 'deleted'])
      assert.ok(types.includes(`admin.user.${type}`), type);
    assert.ok(!JSON.stringify(events.body).includes(ERIN_PASSWORD));
  });

  it('never returned a password or hash', () => {
    assertNoSecretReturned([
      ERIN_PASSWORD,
      ERIN_NEW_PASSWORD,
      ALICE_PASSWORD,
      ADMIN_PASSWORD,
      '$argon2id$v=19$m',
    ]);
  });
});
