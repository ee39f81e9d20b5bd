// An admin sees a person's passkeys and removes one, or all (a lost device), through the admin API
// and `lock users passkeys-reset`: a removed passkey signs nobody in afterwards (a software
// authenticator at the real login page), each removal is audited, and the person is mailed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PasskeyOwner, PasskeyRegistration } from '../../src/login/passkey-registration.ts';
import { relyingPartyOf } from '../../src/login/webauthn.ts';
import { findUserByUsername, markEmailVerified } from '../../src/store/users.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { commandEnv, lockCommand } from '../helpers/lock-command.ts';
import { CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { assertNoMail, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import { startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { SoftwareAuthenticator } from '../helpers/webauthn.ts';
import { MAIL_FROM, mailConfig, mailPerson } from '../mail/mail-fixtures.ts';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from './admin-api.ts';

const NO_SUCH = '00000000-0000-4000-8000-000000000000';
const KEY_MODEL = '11111111-2222-3333-4444-555555555555';

describe('admin: a person’s passkeys (list, remove one, remove all; API and CLI)', () => {
  const pia = mailPerson('pia');
  const ole = mailPerson('ole');
  let lock: RunningLock;
  let api: AdminApi;
  let registration: PasskeyRegistration;
  const ids: Record<string, string> = {};

  /** Registers a passkey for `username` through the registration ceremony (what /account does). */
  async function enrol(username: string, name: string, options: { synced?: boolean; aaguid?: string } = {}) {
    const user = (await findUserByUsername(lock.database.pool, username))!;
    const account: PasskeyOwner = {
      userId: user.id,
      username,
      sub: username,
      session: `s-${username}`,
      ip: '127.0.0.1',
      userAgent: 'test',
      requestId: 'test',
    };
    const authenticator = new SoftwareAuthenticator(lock.issuer, options);
    const outcome = await registration.register(account, {
      name,
      response: authenticator.register(await registration.options(account)),
    });
    assert.equal(outcome.status, 'added', JSON.stringify(outcome));
    return authenticator;
  }

  /** A passwordless sign-in at the login page with `authenticator`'s passkey: the verify status. */
  async function passkeySignIn(authenticator: SoftwareAuthenticator): Promise<number> {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid' },
    );
    const agent = new UserAgent(lock.issuer);
    const html = await (await agent.follow(request.url.toString())).response.text();
    const attribute = (name: string) =>
      new RegExp(`data-${name}="([^"]+)"`).exec(html)?.[1]?.replaceAll('&amp;', '&');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    const [optionsUrl, verifyUrl] = [attribute('options-url'), attribute('verify-url')];
    assert.ok(optionsUrl && verifyUrl && csrf, 'the login page offers passkeys');
    const options = await agent.request(new URL(optionsUrl, lock.issuer).toString(), { json: { csrf } });
    const assertion = authenticator.assert((await options.json()) as never);
    const verified = await agent.request(new URL(verifyUrl, lock.issuer).toString(), {
      json: { csrf, response: assertion },
    });
    return verified.status;
  }

  const auditOf = async (type: string) => (await api('GET', `/audit-events?type=${type}`)).body.items;

  before(async () => {
    lock = await startLock({
      config: mailConfig([pia, ole]),
      env: {
        LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOCK_SMTP_URL: smtpUrl(),
        LOCK_MAIL_FROM: MAIL_FROM,
      },
    });
    registration = new PasskeyRegistration({
      pool: lock.database.pool,
      rp: relyingPartyOf(lock.issuer),
      aaguidAllowlist: [],
      now: () => new Date(),
    });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
    for (const user of (await api('GET', '/users?limit=200')).body.items) ids[user.username] = user.id;
    assert.ok(await markEmailVerified(lock.database.pool, ids.pia!, pia.email, new Date()));
    assert.ok(await markEmailVerified(lock.database.pool, ids.ole!, ole.email, new Date()));
    await waitForMail(pia.email, { subject: /Confirm your email/ });
    await waitForMail(ole.email, { subject: /Confirm your email/ });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('lists the passkeys (name, dates, synced or one device, model) and never a key or credential id', async () => {
    const laptop = await enrol('pia', 'Pia’s laptop', { aaguid: KEY_MODEL });
    const phone = await enrol('pia', 'Pia’s phone', { synced: true });
    assert.equal(await passkeySignIn(laptop), 200, 'the laptop’s passkey signs in before');
    const view = await api('GET', `/users/${ids.pia}`);
    assert.deepEqual(view.body.secondFactor, { totp: false, recoveryCodesLeft: 0, passkeys: 2 });
    const listed = (await api('GET', '/users?q=pia')).body.items[0];
    assert.equal(listed.secondFactor.passkeys, 2);
    const list = await api('GET', `/users/${ids.pia}/passkeys`);
    assert.equal(list.status, 200, list.text);
    const [first, second] = list.body.items;
    assert.equal(list.body.items.length, 2);
    assert.deepEqual(
      { name: first.name, synced: first.synced, backedUp: first.backedUp, aaguid: first.aaguid },
      { name: 'Pia’s laptop', synced: false, backedUp: false, aaguid: KEY_MODEL },
    );
    assert.ok(first.lastUsedAt, 'the sign-in above is its last use');
    assert.deepEqual(
      { name: second.name, synced: second.synced, backedUp: second.backedUp, lastUsedAt: second.lastUsedAt },
      { name: 'Pia’s phone', synced: true, backedUp: true, lastUsedAt: null },
    );
    assert.deepEqual(Object.keys(first).sort(), [
      'aaguid',
      'backedUp',
      'createdAt',
      'id',
      'lastUsedAt',
      'name',
      'synced',
    ]);
    for (const authenticator of [laptop, phone])
      assert.ok(!list.text.includes(authenticator.credentials[0]!.id), 'no credential id in the answer');
    assert.equal((await api('GET', `/users/${NO_SUCH}/passkeys`)).status, 404);
    const anonymous = adminApi(lock.issuer);
    for (const [method, path] of [
      ['GET', `/users/${ids.pia}/passkeys`],
      ['DELETE', `/users/${ids.pia}/passkeys/${first.id}`],
      ['POST', `/users/${ids.pia}/passkeys/reset`],
    ] as const)
      assert.equal((await anonymous(method, path)).status, 401, `${method} ${path} without a token`);
    assert.equal((await api('GET', `/users/${ids.pia}/passkeys`)).body.items.length, 2, 'nothing removed');
  });

  it('removes one passkey: it signs nobody in afterwards, the other still does; audited and mailed', async () => {
    const piaKeys = (await api('GET', `/users/${ids.pia}/passkeys`)).body.items;
    const laptop = await enrol('pia', 'Pia’s spare key');
    const spare = (await api('GET', `/users/${ids.pia}/passkeys`)).body.items.find(
      (p: { name: string }) => p.name === 'Pia’s spare key',
    );
    const oleKey = await enrol('ole', 'Ole’s key');
    const oleId = (await api('GET', `/users/${ids.ole}/passkeys`)).body.items[0].id;
    // Another account's passkey, an unknown one, or no uuid at all: 404, nothing removed.
    for (const wrong of [oleId, NO_SUCH, 'not-a-uuid'])
      assert.equal((await api('DELETE', `/users/${ids.pia}/passkeys/${wrong}`)).status, 404, wrong);
    assert.equal((await api('DELETE', `/users/${NO_SUCH}/passkeys/${spare.id}`)).status, 404);
    assert.equal(await passkeySignIn(oleKey), 200, 'ole’s passkey still signs in');

    const removed = await api('DELETE', `/users/${ids.pia}/passkeys/${spare.id}`);
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.body.secondFactor.passkeys, piaKeys.length);
    assert.equal(await passkeySignIn(laptop), 401, 'the removed passkey signs nobody in');
    assert.equal((await api('DELETE', `/users/${ids.pia}/passkeys/${spare.id}`)).status, 404);
    const [event] = await auditOf('admin.user.passkey_removed');
    assert.equal(event.subject, 'pia');
    assert.equal(
      (await api('GET', `/audit-events?actor=admin&type=admin.user.passkey_removed`)).body.items.length,
      1,
      'done by the admin',
    );
    assert.deepEqual(event.details, { id: ids.pia, passkey: spare.id, name: 'Pia’s spare key' });
    const notice = await waitForMail(pia.email, { subject: /A passkey was removed from your Lock account/ });
    assert.match(notice.text, /Passkey: Pia’s spare key/);
    assert.match(notice.text, /done by an administrator/);
  });

  it('removes every passkey at once: none signs in, the count is 0; a second reset removes nothing', async () => {
    const key = await enrol('pia', 'Pia’s last key');
    assert.equal(await passkeySignIn(key), 200);
    const before = (await api('GET', `/users/${ids.pia}/passkeys`)).body.items.length;
    const reset = await api('POST', `/users/${ids.pia}/passkeys/reset`);
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.body.secondFactor.passkeys, 0);
    assert.deepEqual((await api('GET', `/users/${ids.pia}/passkeys`)).body.items, []);
    assert.equal(await passkeySignIn(key), 401);
    const [event] = await auditOf('admin.user.passkeys_reset');
    assert.deepEqual(event.details, { id: ids.pia, removed: before });
    await waitForMail(pia.email, { subject: /A passkey was removed from your Lock account/ });
    assert.equal((await api('POST', `/users/${ids.pia}/passkeys/reset`)).status, 200);
    await assertNoMail(pia.email);
    assert.equal((await api('POST', `/users/${NO_SUCH}/passkeys/reset`)).status, 404);
  });

  it('lock users passkeys-reset NAME removes them from the command line (audited as the CLI)', async () => {
    const key = await enrol('ole', 'Ole’s second key');
    const run = (args: string[]) =>
      lockCommand(args, { env: commandEnv(lock, { LOCK_SMTP_URL: smtpUrl(), LOCK_MAIL_FROM: MAIL_FROM }) });
    const reset = await run(['users', 'passkeys-reset', 'ole']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal(reset.stdout.trim(), 'removed 2 passkeys of ole');
    assert.equal(await passkeySignIn(key), 401);
    const notice = await waitForMail(ole.email, { subject: /A passkey was removed from your Lock account/ });
    assert.match(notice.text, /done by an administrator/);
    assert.equal((await api('GET', `/users/${ids.ole}`)).body.secondFactor.passkeys, 0);
    const [event] = await auditOf('admin.user.passkeys_reset');
    assert.equal(event.subject, 'ole');
    assert.equal(event.actor, 'cli');
    assert.equal((await run(['users', 'passkeys-reset', 'ole'])).stdout.trim(), 'ole had no passkeys');
    await assertNoMail(ole.email);
    const unknown = await run(['users', 'passkeys-reset', 'nobody']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no local user named "nobody"/);
  });
});
