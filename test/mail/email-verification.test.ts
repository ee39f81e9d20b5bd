import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN_PASSWORD, type AdminApi, adminApi, consoleToken } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { assertNoMail, linkIn, mailAddress, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import {
  getPage,
  MAIL_FROM,
  mailConfig,
  mailPerson,
  postPage,
  signInWithEmailScope,
} from './mail-fixtures.ts';

const CONFIRM = /Confirm your (new )?email address for Lock/;

describe('email verification (real SMTP)', () => {
  const ivy = mailPerson('ivy');
  let lock: RunningLock;
  let api: AdminApi;

  before(async () => {
    lock = await startLock({
      config: mailConfig([ivy]),
      env: {
        LOCK_SMTP_URL: smtpUrl(),
        LOCK_MAIL_FROM: MAIL_FROM,
        LOCK_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    });
    api = adminApi(lock.issuer, await consoleToken(lock.issuer, 'admin', ADMIN_PASSWORD));
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  const verifyLink = async (email: string) =>
    linkIn(await waitForMail(email, { subject: CONFIRM }), `${lock.issuer}/verify-email/`);

  it('mails the file’s accounts at start; the link sets email_verified in the ID token', async () => {
    const before = await signInWithEmailScope(lock.issuer, ivy.username, ivy.password);
    assert.equal(before.tokens?.claims()?.email, ivy.email);
    assert.equal(before.tokens?.claims()?.email_verified, false);

    const link = await verifyLink(ivy.email);
    // Opening the link (as a mail scanner does) confirms nothing: the page has a button that POSTs.
    const page = await getPage(link);
    assert.equal(page.status, 200);
    assert.match(page.html, /<form[^>]*method="post"/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(
      (await signInWithEmailScope(lock.issuer, ivy.username, ivy.password)).tokens?.claims()?.email_verified,
      false,
    );

    const confirmed = await postPage(link, {});
    assert.equal(confirmed.status, 200);
    assert.match(confirmed.html, /Your email address is confirmed/);
    const again = await postPage(link, {});
    assert.equal(again.status, 400, 'a verification link works once');
    assert.match(again.html, /This link no longer works/);

    const after = await signInWithEmailScope(lock.issuer, ivy.username, ivy.password);
    assert.equal(after.tokens?.claims()?.email_verified, true);
    const userinfo = await fetch(`${lock.issuer}/me`, {
      headers: { authorization: `Bearer ${after.tokens!.access_token}` },
    });
    assert.equal(((await userinfo.json()) as { email_verified?: boolean }).email_verified, true);
    const list = await api('GET', `/users?search=${ivy.username}`);
    assert.equal(list.body.items[0].emailVerified, true);
  });

  it('mails an account the admin API creates, and un-verifies a changed address until its own link', async () => {
    const email = mailAddress('jo');
    const password = 'jo has a long enough passphrase';
    const created = await api('POST', '/users', { body: { username: 'jo', email, password } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.emailVerified, false);
    const id = created.body.id as string;

    assert.equal((await postPage(await verifyLink(email), {})).status, 200);
    let read = await api('GET', `/users/${id}`);
    assert.equal(read.body.emailVerified, true);

    // A new address: unverified at once, and mailed a link of its own.
    const newer = mailAddress('jo-new');
    const changed = await api('PATCH', `/users/${id}`, { body: { email: newer }, ifMatch: read.etag! });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.emailVerified, false);
    assert.equal(
      (await signInWithEmailScope(lock.issuer, 'jo', password)).tokens?.claims()?.email_verified,
      false,
    );
    const newerLink = await verifyLink(newer);

    // A link for an address the account no longer has verifies nothing.
    read = await api('GET', `/users/${id}`);
    const third = mailAddress('jo-third');
    await api('PATCH', `/users/${id}`, { body: { email: third }, ifMatch: read.etag! });
    assert.equal((await postPage(newerLink, {})).status, 400);
    assert.equal((await api('GET', `/users/${id}`)).body.emailVerified, false);

    // Sent again on request.
    const resent = await api('POST', `/users/${id}/verify-email`);
    assert.equal(resent.status, 200);
    await verifyLink(third); // the PATCH's mail
    assert.equal((await postPage(await verifyLink(third), {})).status, 200);
    const token = await signInWithEmailScope(lock.issuer, 'jo', password);
    assert.equal(token.tokens?.claims()?.email, third);
    assert.equal(token.tokens?.claims()?.email_verified, true);
  });

  it('refuses a reset link as a verification link and a made-up token', async () => {
    assert.equal((await getPage(`${lock.issuer}/verify-email/${'A'.repeat(43)}`)).status, 400);
    assert.equal((await postPage(`${lock.issuer}/verify-email/${'A'.repeat(43)}`, {})).status, 400);
    await postPage(`${lock.issuer}/reset`, { identifier: ivy.username });
    const reset = linkIn(
      await waitForMail(ivy.email, { subject: /Reset your Lock password/ }),
      `${lock.issuer}/reset/`,
    );
    const token = reset.slice(reset.lastIndexOf('/') + 1);
    assert.equal((await postPage(`${lock.issuer}/verify-email/${token}`, {})).status, 400);
    // …and it still works where it belongs.
    assert.equal((await getPage(reset)).status, 200);
  });

  it('sends security notices to a verified address only: password set by an admin, password reset', async () => {
    const ivyId = (await api('GET', `/users?search=${ivy.username}`)).body.items[0].id as string;
    const set = 'an administrator chose this passphrase';
    assert.equal((await api('POST', `/users/${ivyId}/password`, { body: { password: set } })).status, 200);
    const changed = await waitForMail(ivy.email, { subject: /Your Lock password was changed/ });
    assert.match(changed.text, /done by an administrator/);
    assert.doesNotMatch(changed.text, new RegExp(set));

    await postPage(`${lock.issuer}/reset`, { identifier: ivy.email });
    const link = linkIn(
      await waitForMail(ivy.email, { subject: /Reset your Lock password/ }),
      `${lock.issuer}/reset/`,
    );
    const chosen = 'ivy reset it to this passphrase';
    assert.equal((await postPage(link, { password: chosen, confirm: chosen })).status, 200);
    const notice = await waitForMail(ivy.email, { subject: /Your Lock password was reset/ });
    assert.match(notice.text, /every session was signed out/);

    // An unverified address hears nothing.
    const email = mailAddress('kay');
    const created = await api('POST', '/users', {
      body: { username: 'kay', email, password: 'kay has a long passphrase' },
    });
    await waitForMail(email, { subject: CONFIRM });
    await api('POST', `/users/${created.body.id}/password`, {
      body: { password: 'kay got another passphrase' },
    });
    await assertNoMail(email);
  });
});
