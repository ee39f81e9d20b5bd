import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { openLdapEnv as ldap, openLdapConsoleConfig } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { commandEnv, lockCommand } from '../helpers/lock-command.ts';
import { ALICE_PASSWORD, loginConfig, signInToWebApp } from '../helpers/login-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken, serviceToken } from './admin-api.ts';

/** The login fixtures without any connector: Lock's own accounts are there only implicitly. */
const withoutConnectors = loginConfig
  .replace(/connectors:\n {2}- \{ id: local[^\n]*\n/, '')
  .replaceAll('connector: local,', "connector: '*',");

const LOCAL_OFF = { id: 'local', type: 'local', name: 'Lock account', config: { enabled: false } };
const LOCKOUT = /no one holding lock_admin could sign in/;

describe('admin API: saving a connector never locks the admins out', () => {
  let lock: RunningLock;
  let api: AdminApi;
  const lockCli = (args: string[]) => lockCommand(args, { env: commandEnv(lock) });
  const adminId = async () =>
    (await api('GET', '/users?limit=200')).body.items.find(
      (user: { username: string }) => user.username === 'admin',
    ).id as string;

  before(async () => {
    assert.doesNotMatch(withoutConnectors, /type: local/);
    lock = await startLock({
      config: withoutConnectors,
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD },
    });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('the first LDAP connector keeps local accounts: the admin signs in, the API answers, refresh tokens work', async () => {
    const alice = await signInToWebApp(lock.issuer, 'alice', ALICE_PASSWORD);
    assert.ok(alice.tokens?.refresh_token, alice.html);

    const created = await api('POST', '/connectors', {
      body: {
        id: 'corp',
        type: 'ldap',
        name: 'Corporate directory',
        config: openLdapConsoleConfig({
          groupSearch: { mode: 'search', baseDN: `ou=groups,${ldap('BASE_DN')}` },
        }),
      },
    });
    assert.equal(created.status, 201, created.text);

    const next = await api('GET', '/connectors');
    assert.equal(next.status, 200, 'the same admin token still works');
    assert.deepEqual(
      next.body.items.map((each: { id: string }) => each.id),
      ['local', 'corp'],
    );
    const again = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    assert.equal(
      (await again('GET', '/users')).status,
      200,
      'the bootstrap admin signs in with its password',
    );
    const refreshed = await oidc.refreshTokenGrant(alice.config!, alice.tokens.refresh_token);
    assert.ok(refreshed.access_token, 'a local refresh token still works');
    const dave = await signInToWebApp(lock.issuer, 'dave', 'dave-password');
    assert.ok(dave.tokens, 'and directory users sign in too');
  });

  it('turning local accounts off, or disabling the last admin, is refused with the reason (API, CLI, file)', async () => {
    const local = await api('GET', '/connectors/local');
    const off = await api('PUT', '/connectors/local', { body: LOCAL_OFF, ifMatch: local.etag! });
    assert.equal(off.status, 409, off.text);
    assert.match(off.body.error, LOCKOUT);
    assert.equal((await api('DELETE', '/connectors/local', { ifMatch: '*' })).status, 409);

    const id = await adminId();
    const disabled = await api('POST', `/users/${id}/disable`);
    assert.equal(disabled.status, 409, disabled.text);
    assert.match(disabled.body.error, LOCKOUT);
    assert.equal((await api('DELETE', `/users/${id}`, { ifMatch: '*' })).status, 409);
    const admin = (await api('GET', `/users/${id}`)).body;
    const demoted = await api('PATCH', `/users/${id}`, { body: { roles: [] }, ifMatch: '*' });
    assert.equal(demoted.status, 409, demoted.text);
    assert.deepEqual((await api('GET', `/users/${id}`)).body.roles, admin.roles);

    const cli = await lockCli(['users', 'disable', 'admin']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, LOCKOUT);

    const file = join(lock.keysDir, 'local-off.yaml');
    await writeFile(file, `connectors:\n  - ${JSON.stringify(LOCAL_OFF)}\n`);
    const applied = await lockCli(['config', 'apply', file]);
    assert.notEqual(applied.code, 0);
    assert.match(applied.stderr, LOCKOUT);

    assert.equal((await api('GET', '/connectors')).status, 200, 'the admin still administers');
    assert.equal((await api('GET', '/connectors/local')).etag, local.etag, 'local accounts are still on');
  });

  it('disabling every admin at once (concurrent requests): exactly one stays enabled', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        api('POST', '/users', {
          body: {
            username: `deputy-${index}`,
            password: `a long passphrase for deputy ${index}`,
            roles: ['lock_admin'],
          },
        }),
      ),
    );
    for (const each of created) assert.equal(each.status, 201, each.text);
    const ids = [await adminId(), ...created.map((each) => each.body.id as string)];
    // An automation client sends the disables: a person's token would itself stop working the
    // moment its own account is disabled, and the outcome would depend on which request ran first.
    const registered = await api('POST', '/clients', {
      body: {
        clientId: 'lockout-race',
        grantTypes: ['client_credentials'],
        roles: ['lock_admin'],
        resources: [`${lock.issuer}/admin`],
      },
    });
    assert.equal(registered.status, 201, registered.text);
    const automation = adminApi(
      lock.issuer,
      await serviceToken(lock.issuer, 'lockout-race', registered.body.clientSecret),
    );
    const answers = await Promise.all(ids.map((id) => automation('POST', `/users/${id}/disable`)));
    assert.deepEqual(
      answers.map((each) => each.status).sort(),
      [...Array(20).fill(200), 409],
      answers.map((each) => `${each.status} ${each.text.slice(0, 80)}`).join('\n'),
    );
    const survivor = ids[answers.findIndex((each) => each.status === 409)]!;
    assert.equal((await automation('GET', `/users/${survivor}`)).body.disabled, false);
    for (const id of ids) assert.equal((await automation('POST', `/users/${id}/enable`)).status, 200);
    assert.equal((await automation('DELETE', '/clients/lockout-race', { ifMatch: '*' })).status, 204);
  });

  it('with a directory group mapped to lock_admin, local accounts can be turned off and that group administers', async () => {
    const mapping = await api('POST', '/role-mappings', {
      body: { connector: 'corp', group: 'admins', roles: ['lock_admin'] },
    });
    assert.equal(mapping.status, 201, mapping.text);
    const local = await api('GET', '/connectors/local');
    const off = await api('PUT', '/connectors/local', { body: LOCAL_OFF, ifMatch: local.etag! });
    assert.equal(off.status, 200, off.text);
    assert.deepEqual(off.body.config, { enabled: false });

    const bob = adminApi(lock.issuer, await consoleToken(lock.issuer, 'bob', 'bob-password'));
    assert.equal((await bob('GET', '/connectors')).status, 200);
    await assert.rejects(consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD), /sign-in as admin failed/);
    const removed = await bob('DELETE', '/role-mappings/corp/admins', { ifMatch: '*' });
    assert.equal(removed.status, 409, 'the mapping that is the only way in stays');
  });
});
