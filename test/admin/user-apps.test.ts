// An admin sees the applications holding access to a person's account and takes one back for them
// (GET /users/{id}/apps, DELETE /users/{id}/apps/{clientId}): its refresh tokens stop working, the
// next sign-in asks again, other applications and other people keep theirs, and it is audited.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { refreshes, signInForOffline } from '../helpers/app-access.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { commandEnv, lockCommand } from '../helpers/lock-command.ts';
import { ALICE_PASSWORD, API, BOB_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from './admin-api.ts';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';

describe('admin: the applications with access to a person’s account', () => {
  let lock: RunningLock;
  let api: AdminApi;
  const ids: Record<string, string> = {};

  before(async () => {
    lock = await startLock({ config: loginConfig, env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    for (const user of (await api('GET', '/users?limit=200')).body.items) ids[user.username] = user.id;
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('lists each app with its scopes and APIs, and removing one ends its tokens only', async () => {
    const partner = await signInForOffline(lock.issuer, 'partner-app', 'alice', ALICE_PASSWORD);
    const web = await signInForOffline(lock.issuer, 'web-app', 'alice', ALICE_PASSWORD);
    const bobsPartner = await signInForOffline(lock.issuer, 'partner-app', 'bob', BOB_PASSWORD);

    const listed = await api('GET', `/users/${ids.alice}/apps`);
    assert.equal(listed.status, 200);
    const byClient = new Map(listed.body.items.map((app: { clientId: string }) => [app.clientId, app]));
    assert.deepEqual([...byClient.keys()].sort(), ['partner-app', 'web-app']);
    assert.deepEqual(byClient.get('partner-app'), {
      clientId: 'partner-app',
      openidScopes: ['openid', 'profile', 'offline_access'],
      apis: [{ indicator: API, scopes: ['read'] }],
      since: (byClient.get('partner-app') as { since: string }).since,
    });
    assert.ok(Date.now() - Date.parse((byClient.get('partner-app') as { since: string }).since) < 60_000);

    const removed = await api('DELETE', `/users/${ids.alice}/apps/partner-app`);
    assert.equal(removed.status, 200);
    assert.deepEqual(
      removed.body.items.map((app: { clientId: string }) => app.clientId),
      ['web-app'],
    );
    assert.equal(await refreshes(partner), 'invalid_grant', "alice's partner-app token has ended");
    assert.equal(await refreshes(web), true, "alice's web-app keeps its access");
    assert.equal(await refreshes(bobsPartner), true, "bob's partner-app keeps his");
    assert.equal(
      (await signInForOffline(lock.issuer, 'partner-app', 'alice', ALICE_PASSWORD)).consentAsked,
      true,
      'the next sign-in asks again',
    );

    const { rows } = await lock.database.pool.query<{ actor: string; details: Record<string, unknown> }>(
      "SELECT details FROM audit_events WHERE type = 'admin.user.app_access_removed' ORDER BY id",
    );
    assert.deepEqual(
      rows.map((row) => row.details),
      [{ id: ids.alice, clientId: 'partner-app', consent: true, grants: 1 }],
    );
  });

  it('answers 404 for an app without access, an unknown user, and /account’s own client', async () => {
    await signInForOffline(lock.issuer, 'web-app', 'bob', BOB_PASSWORD);
    for (const path of [
      `/users/${ids.bob}/apps/cli-tool`,
      `/users/${ids.bob}/apps/no-such-client`,
      `/users/${NO_SUCH}/apps/web-app`,
      `/users/${ids.bob}/apps/lock-account`,
    ]) {
      const answer = await api('DELETE', path);
      assert.equal(answer.status, 404, path);
    }
    assert.equal((await api('GET', `/users/${NO_SUCH}/apps`)).status, 404);
    assert.equal((await api('DELETE', `/users/${ids.bob}/apps/web%00app`)).status, 400, 'a NUL byte');
    const bobs = await api('GET', `/users/${ids.bob}/apps`);
    assert.ok(
      bobs.body.items.some((app: { clientId: string }) => app.clientId === 'web-app'),
      'nothing of his was removed',
    );
  });

  it('lock users apps NAME and lock users app-remove NAME CLIENT do the same from the command line', async () => {
    const web = await signInForOffline(lock.issuer, 'web-app', 'alice', ALICE_PASSWORD);
    const run = (args: string[]) => lockCommand(args, { env: commandEnv(lock) });
    const listed = await run(['users', 'apps', 'alice', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      JSON.parse(listed.stdout).items,
      (await api('GET', `/users/${ids.alice}/apps`)).body.items,
      'what the admin API lists',
    );
    assert.match(
      (await run(['users', 'apps', 'alice'])).stdout,
      /^web-app\topenid profile offline_access\t/m,
    );

    const removed = await run(['users', 'app-remove', 'alice', 'web-app']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout.trim(), "removed the access of web-app to alice's account");
    assert.equal(await refreshes(web), 'invalid_grant');
    const { rows } = await lock.database.pool.query<{ actor: string }>(
      "SELECT actor FROM audit_events WHERE type = 'admin.user.app_access_removed' ORDER BY id DESC LIMIT 1",
    );
    assert.equal(rows[0]!.actor, 'cli');

    const again = await run(['users', 'app-remove', 'alice', 'web-app']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /gave web-app no access/);
    const unknown = await run(['users', 'apps', 'nobody']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no local user named "nobody"/);
  });
});
