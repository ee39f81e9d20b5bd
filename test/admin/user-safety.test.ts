// The admin API behind the console's user pages: nobody disables or deletes the account they are
// signed in as; the user view tells the console whether an account is locked out, has a second
// factor, is the caller's own or the last admin's; unlock and TOTP reset; the catalog lists page.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BruteForceGuard } from '../../src/security/brute-force.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from './admin-api.ts';

const BEA_PASSWORD = 'bea has a long enough passphrase';
const ERIN_PASSWORD = 'erin has a long enough passphrase';
const OWN_ACCOUNT = /you are signed in as (admin|bea), and you cannot (disable|delete) your own account/;

describe('admin API: safe user actions and what the console shows of an account', () => {
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

  it('the only admin sees their account as theirs, the last admin, with its second factor', async () => {
    const admin = await api('GET', `/users/${ids.admin}`);
    assert.equal(admin.status, 200);
    assert.equal(admin.body.you, true);
    assert.equal(admin.body.lastAdmin, true);
    assert.equal(admin.body.connector, 'local');
    assert.equal(admin.body.secondFactor.totp, true, 'the admin enrolled TOTP at sign-in');
    assert.ok(admin.body.secondFactor.recoveryCodesLeft > 0);
    assert.equal(admin.body.lockedUntil, null);
    const alice = await api('GET', `/users/${ids.alice}`);
    assert.equal(alice.body.you, false);
    assert.equal(alice.body.lastAdmin, false);
    assert.equal(alice.body.secondFactor.totp, false);
    // The state is not part of the version: GET → edit → PUT works with it in the body.
    const dora = await api('POST', '/users', { body: { username: 'dora', name: 'Dora' } });
    const read = await api('GET', `/users/${dora.body.id}`);
    const put = await api('PUT', `/users/${dora.body.id}`, {
      body: { ...read.body, name: 'Dora M.' },
      ifMatch: read.etag!,
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.name, 'Dora M.');
  });

  it('an admin cannot disable or delete their own account (409 saying why); another admin can', async () => {
    const bea = await api('POST', '/users', {
      body: { username: 'bea', password: BEA_PASSWORD, roles: ['lock_admin'] },
    });
    assert.equal(bea.status, 201, bea.text);
    ids.bea = bea.body.id;
    assert.equal(bea.body.lastAdmin, false, 'two admins: neither is the last');

    const disable = await api('POST', `/users/${ids.admin}/disable`);
    assert.equal(disable.status, 409, disable.text);
    assert.match(disable.body.detail, OWN_ACCOUNT);
    const own = await api('GET', `/users/${ids.admin}`);
    assert.equal(own.body.disabled, false);
    const replaced = await api('PUT', `/users/${ids.admin}`, {
      body: { ...own.body, disabled: true },
      ifMatch: own.etag!,
    });
    assert.equal(replaced.status, 409, replaced.text);
    assert.match(replaced.body.detail, OWN_ACCOUNT);
    const patched = await api('PATCH', `/users/${ids.admin}`, { body: { disabled: true }, ifMatch: '*' });
    assert.equal(patched.status, 409, patched.text);
    const deleted = await api('DELETE', `/users/${ids.admin}`, { ifMatch: own.etag! });
    assert.equal(deleted.status, 409, deleted.text);
    assert.match(deleted.body.detail, /you cannot delete your own account/);
    assert.equal((await api('GET', `/users/${ids.admin}`)).body.disabled, false);

    // Bea, another admin, may disable admin; then bea is the last admin and cannot go.
    const asBea = adminApi(lock.issuer, await consoleToken(lock.issuer, 'bea', BEA_PASSWORD));
    const byBea = await asBea('POST', `/users/${ids.admin}/disable`);
    assert.equal(byBea.status, 200, byBea.text);
    const beaNow = await asBea('GET', `/users/${ids.bea}`);
    assert.equal(beaNow.body.you, true);
    assert.equal(beaNow.body.lastAdmin, true);
    const last = await asBea('POST', `/users/${ids.bea}/disable`);
    assert.equal(last.status, 409);
    assert.match(last.body.detail, /no one holding lock_admin could sign in/);
    assert.equal((await asBea('POST', `/users/${ids.admin}/enable`)).status, 200);
  });

  it('a locked-out account shows until when; unlock lifts it (audited)', async () => {
    const created = await api('POST', '/users', { body: { username: 'erin', password: ERIN_PASSWORD } });
    ids.erin = created.body.id;
    // Failed sign-ins counted as the login form counts them (one shared guard, in PostgreSQL).
    const guard = new BruteForceGuard(lock.database.pool);
    for (let attempt = 0; attempt < 31; attempt++)
      await guard.reserve({ username: 'Erin', address: `198.51.100.${attempt}` });
    const locked = await api('GET', `/users/${ids.erin}`);
    assert.ok(locked.body.lockedUntil, 'erin is locked out');
    assert.ok(Date.parse(locked.body.lockedUntil) > Date.now());
    const listed = (await api('GET', '/users?q=erin')).body.items;
    assert.deepEqual(
      listed.map((user: { username: string; lockedUntil: string | null }) => [
        user.username,
        Boolean(user.lockedUntil),
      ]),
      [['erin', true]],
    );

    const unlocked = await api('POST', `/users/${ids.erin}/unlock`);
    assert.equal(unlocked.status, 200, unlocked.text);
    assert.equal(unlocked.body.lockedUntil, null);
    assert.deepEqual(await guard.reserve({ username: 'erin', address: '198.51.100.200' }), {
      admitted: true,
    });
    const audit = await api('GET', '/audit-events?type=admin.user.unlocked');
    assert.equal(audit.body.items[0]?.subject, 'erin');
  });

  it('a TOTP reset removes the authenticator; the view says so', async () => {
    assert.equal((await api('GET', `/users/${ids.bea}`)).body.secondFactor.totp, true);
    const reset = await api('POST', `/users/${ids.bea}/totp-reset`);
    assert.equal(reset.status, 200, reset.text);
    assert.deepEqual(reset.body.secondFactor, { totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    assert.equal((await api('POST', '/users/00000000-0000-4000-8000-000000000000/totp-reset')).status, 404);
  });

  it('the catalog lists page and search (limit, cursor, q)', async () => {
    for (const name of ['paged_a', 'paged_b', 'paged_c'])
      assert.equal((await api('POST', '/roles', { body: { name } })).status, 201);
    const first = await api('GET', '/roles?q=PAGED&limit=2');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(
      first.body.items.map((role: { name: string }) => role.name),
      ['paged_a', 'paged_b'],
    );
    const second = await api('GET', `/roles?q=paged&limit=2&cursor=${first.body.next}`);
    assert.deepEqual(
      second.body.items.map((role: { name: string }) => role.name),
      ['paged_c'],
    );
    assert.equal(second.body.next, null);
    assert.equal((await api('GET', '/roles?cursor=bm90IG91cnM')).status, 400);
    assert.equal((await api('GET', '/clients?q=no-such-client')).body.items.length, 0);
  });
});
