import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { changePassword } from '../../src/admin/users.ts';
import { countAuditedAttempts } from '../helpers/audit.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { assertNoMail, linkIn, smtpUrl, takeMails, waitForMail } from '../helpers/mailbox.ts';
import { startAuthorization } from '../helpers/relying-party.ts';
import { median } from '../helpers/sign-in-attempts.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import {
  getPage,
  MAIL_FROM,
  mailConfig,
  mailPerson,
  postPage,
  signInWithEmailScope,
} from './mail-fixtures.ts';

const REFUSED = /This link no longer works/;
const DONE = /Your password is changed/;

describe('password reset by mail (real SMTP)', () => {
  const dora = mailPerson('dora');
  const erin = mailPerson('erin');
  const finn = mailPerson('finn');
  const gail = mailPerson('gail');
  const hugo = mailPerson('hugo');
  let lock: RunningLock;
  let offsetMs = 0;
  /** finn's verification link, mailed at start: not a reset link. */
  let finnVerification = '';

  before(async () => {
    lock = await startLock({
      config: mailConfig([dora, erin, finn, gail, hugo]),
      env: {
        LOCK_SMTP_URL: smtpUrl(),
        LOCK_MAIL_FROM: MAIL_FROM,
        // The timing test posts many requests from one address.
        LOCK_RATE_LIMIT_PASSWORD_RESET: '1000',
        LOCK_PASSWORD_RESET_MAILS_PER_HOUR: '4',
      },
      now: () => new Date(Date.now() + offsetMs),
    });
    // The file's accounts got verification mails at start: not what these tests read.
    for (const person of [dora, erin, finn, gail, hugo]) {
      const mail = await waitForMail(person.email, { subject: /Confirm/ });
      if (person === finn) finnVerification = linkIn(mail, `${lock.issuer}/verify-email/`);
    }
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  const resetUrl = () => `${lock.issuer}/reset`;
  const requestLink = async (identifier: string) => {
    const answer = await postPage(resetUrl(), { identifier });
    assert.equal(answer.status, 200);
    return answer;
  };
  const nextResetLink = async (email: string) =>
    linkIn(await waitForMail(email, { subject: /Reset your Lock password/ }), `${lock.issuer}/reset/`);

  it('offers "Forgot your password?" on the login page, and the form at /reset', async () => {
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid' },
    );
    const login = await new UserAgent(lock.issuer).follow(request.url.toString());
    const html = await login.response.text();
    assert.match(html, /<a href="\/reset">Forgot your password\?<\/a>/);
    const form = await getPage(resetUrl());
    assert.equal(form.status, 200);
    assert.match(form.html, /name="identifier"/);
    assert.equal(form.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(form.headers.get('cache-control'), 'no-store');
  });

  it('mails a link that sets a new password once, ends every session, and is audited', async () => {
    const before = await signInWithEmailScope(lock.issuer, dora.username, dora.password);
    assert.ok(before.tokens?.refresh_token, 'a refresh token issued before the reset');

    await requestLink(dora.email); // by email address
    const mail = await waitForMail(dora.email, { subject: /Reset your Lock password/ });
    assert.equal(mail.from, 'lock@mail.test');
    assert.match(mail.text, /within 15 minutes/);
    assert.match(mail.html, /<a href="http:\/\/127\.0\.0\.1:\d+\/reset\/[A-Za-z0-9_-]{43}"/);
    const link = linkIn(mail, `${lock.issuer}/reset/`);

    const page = await getPage(link);
    assert.equal(page.status, 200);
    assert.match(page.html, /Choose a new password/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    // A password the policy refuses, or two that differ, leave the link usable.
    const weak = await postPage(link, { password: 'password', confirm: 'password' });
    assert.equal(weak.status, 400);
    assert.match(weak.html, /Choose another password/);
    const differ = await postPage(link, { password: 'one long passphrase', confirm: 'another passphrase' });
    assert.equal(differ.status, 400);
    assert.match(differ.html, /The two passwords differ/);

    const newPassword = 'dora chose a brand new passphrase';
    const done = await postPage(link, { password: newPassword, confirm: newPassword });
    assert.equal(done.status, 200);
    assert.match(done.html, DONE);

    const again = await postPage(link, {
      password: 'yet another passphrase',
      confirm: 'yet another passphrase',
    });
    assert.equal(again.status, 400, 'a link works once');
    assert.match(again.html, REFUSED);
    assert.equal((await getPage(link)).status, 400);

    await assert.rejects(
      oidc.refreshTokenGrant(before.config, before.tokens.refresh_token),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_grant',
      'the refresh token issued before the reset is dead',
    );
    assert.equal((await signInWithEmailScope(lock.issuer, dora.username, dora.password)).tokens, undefined);
    assert.ok((await signInWithEmailScope(lock.issuer, dora.username, newPassword)).tokens);
    dora.password = newPassword;

    assert.equal(
      await countAuditedAttempts(lock.database.pool, {
        subject: dora.username,
        type: 'account.password.reset_requested',
        outcome: 'success',
      }),
      1,
    );
    assert.equal(
      await countAuditedAttempts(lock.database.pool, {
        subject: dora.username,
        type: 'account.password.reset',
        outcome: 'success',
      }),
      1,
    );
    // The account's address is not verified yet: no security notice goes to it.
    await assertNoMail(dora.email, 500);
  });

  it('of twenty concurrent posts of one link, exactly one sets the password', async () => {
    await requestLink(erin.username);
    const link = await nextResetLink(erin.email);
    const passwords = Array.from({ length: 20 }, (_, index) => `erin's concurrent passphrase ${index}`);
    const answers = await Promise.all(
      passwords.map((password) => postPage(link, { password, confirm: password })),
    );
    const winners = answers.flatMap((answer, index) => (DONE.test(answer.html) ? [index] : []));
    assert.equal(winners.length, 1, `statuses: ${answers.map((answer) => answer.status).join(' ')}`);
    for (const [index, answer] of answers.entries())
      if (index !== winners[0]) {
        assert.equal(answer.status, 400);
        assert.match(answer.html, REFUSED);
      }
    const winner = passwords[winners[0]!]!;
    assert.ok((await signInWithEmailScope(lock.issuer, erin.username, winner)).tokens);
    erin.password = winner;
  });

  it('refuses an expired link, an older link once the password changed, and a link of another kind', async () => {
    // Expired: 15 minutes and a second later.
    await requestLink(finn.username);
    const expiring = await nextResetLink(finn.email);
    offsetMs = 15 * 60_000 + 1_000;
    try {
      assert.equal((await getPage(expiring)).status, 400);
      const late = await postPage(expiring, {
        password: 'finn is too late now',
        confirm: 'finn is too late now',
      });
      assert.match(late.html, REFUSED);
    } finally {
      offsetMs = 0;
    }
    assert.ok((await signInWithEmailScope(lock.issuer, finn.username, finn.password)).tokens);

    // Older link: the password changed (by an administrator) after it was mailed.
    await requestLink(finn.username);
    const older = await nextResetLink(finn.email);
    assert.equal((await getPage(older)).status, 200);
    const adminSet = 'an administrator set this passphrase';
    await changePassword(lock.database.pool, finn.username, adminSet, { endSessions: false });
    assert.equal((await getPage(older)).status, 400, 'the link died with the password it was bound to');
    const stale = await postPage(older, { password: 'finn wants this one', confirm: 'finn wants this one' });
    assert.match(stale.html, REFUSED);
    assert.ok((await signInWithEmailScope(lock.issuer, finn.username, adminSet)).tokens);

    // Of two links, using the newer kills the older (the password it was bound to is gone).
    await requestLink(finn.username);
    const first = await nextResetLink(finn.email);
    await requestLink(finn.username);
    const second = await nextResetLink(finn.email);
    const newer = 'finn used the newer link';
    assert.match((await postPage(second, { password: newer, confirm: newer })).html, DONE);
    assert.match(
      (await postPage(first, { password: 'the older link', confirm: 'the older link' })).html,
      REFUSED,
    );
    finn.password = newer;

    // A made-up token, and a verification link where a reset link is expected.
    assert.equal((await getPage(`${resetUrl()}/${randomBytes(32).toString('base64url')}`)).status, 400);
    assert.equal((await getPage(`${resetUrl()}/not-a-token`)).status, 400);
    const verificationToken = finnVerification.slice(finnVerification.lastIndexOf('/') + 1);
    const crossed = await postPage(`${resetUrl()}/${verificationToken}`, {
      password: 'through a verification link',
      confirm: 'through a verification link',
    });
    assert.match(crossed.html, REFUSED);
  });

  it('sets only the password of the account the link was mailed to', async () => {
    await requestLink(gail.username);
    const link = await nextResetLink(gail.email);
    const chosen = 'gail picked this passphrase';
    assert.match((await postPage(link, { password: chosen, confirm: chosen })).html, DONE);
    assert.ok((await signInWithEmailScope(lock.issuer, gail.username, chosen)).tokens);
    assert.equal((await signInWithEmailScope(lock.issuer, hugo.username, chosen)).tokens, undefined);
    assert.ok((await signInWithEmailScope(lock.issuer, hugo.username, hugo.password)).tokens);
    gail.password = chosen;
    // The link names no account: nothing of hugo's can be reached with gail's (or any other) token.
    assert.deepEqual(await takeMails(hugo.email), []);
  });

  it('mails one account at most LOCK_PASSWORD_RESET_MAILS_PER_HOUR times an hour, answering every request the same', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => (await requestLink(hugo.username)).html),
    );
    assert.equal(new Set(answers).size, 1);
    for (let mail = 0; mail < 4; mail++) await nextResetLink(hugo.email);
    await assertNoMail(hugo.email, 2_000);
    assert.equal(
      await countAuditedAttempts(lock.database.pool, {
        subject: hugo.username,
        type: 'account.password.reset_requested',
        outcome: 'failure',
      }),
      2,
    );
  });

  it('speaks the browser’s language on the pages and in the reset mail (Accept-Language: de)', async () => {
    const german = { 'accept-language': 'de-CH, en;q=0.5' };
    const form = await getPage(resetUrl(), german);
    assert.match(form.html, /<html lang="de">/);
    assert.match(form.html, /Passwort zurücksetzen/);
    const sent = await postPage(resetUrl(), { identifier: gail.username }, german);
    assert.match(sent.html, /ist ein Link zum Wählen eines neuen Passworts/);
    const mail = await waitForMail(gail.email, { subject: /Ihr Lock-Passwort zurücksetzen/ });
    assert.match(mail.text, /innerhalb von 15 Minuten/);
    const link = linkIn(mail, `${lock.issuer}/reset/`);
    const mismatch = await postPage(
      link,
      { password: 'eins zwei drei vier', confirm: 'vier drei zwei eins' },
      german,
    );
    assert.match(mismatch.html, /Die beiden Passwörter unterscheiden sich/);
    const refused = await getPage(`${resetUrl()}/${'B'.repeat(43)}`, { 'accept-language': 'ja' });
    assert.match(refused.html, /このリンクは使用できません/);
  });
});

describe('password reset: the form’s timing (real SMTP)', () => {
  // An account that is mailed at every request (no per-account limit in the way), so a known name
  // costs Lock all the work: lookup, link, mail.
  const nina = mailPerson('nina');
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({
      config: mailConfig([nina]),
      env: {
        LOCK_SMTP_URL: smtpUrl(),
        LOCK_MAIL_FROM: MAIL_FROM,
        LOCK_RATE_LIMIT_PASSWORD_RESET: '1000',
        LOCK_PASSWORD_RESET_MAILS_PER_HOUR: '100',
      },
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('answers an unknown name or address exactly as a known one, in time not told apart (medians)', async (t) => {
    const known = await postPage(`${lock.issuer}/reset`, { identifier: nina.email });
    const unknown = await postPage(`${lock.issuer}/reset`, {
      identifier: `nobody-${randomBytes(4).toString('hex')}@mail.test`,
    });
    assert.equal(unknown.status, known.status);
    assert.equal(unknown.html, known.html, 'the same page, byte for byte');

    // Rounds of one post of each kind (in alternating order): each compared with its round's mean,
    // so a slow moment of a shared machine slows a whole round, not one kind.
    const kinds: Record<string, () => string> = {
      'known username': () => nina.username,
      'known email': () => nina.email,
      unknown: () => `nobody-${randomBytes(4).toString('hex')}`,
    };
    const offsets: Record<string, number[]> = Object.fromEntries(
      Object.keys(kinds).map((kind) => [kind, []]),
    );
    const names = Object.keys(kinds);
    for (let round = 0; round < 45; round++) {
      const order = round % 2 === 0 ? names : [...names].reverse();
      const times: Record<string, number> = {};
      for (const kind of order) {
        times[kind] = (await postPage(`${lock.issuer}/reset`, { identifier: kinds[kind]!() })).elapsedMs;
        // What a post queued runs after its answer: let it finish, so that it slows no other post.
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      const mean = Object.values(times).reduce((sum, value) => sum + value, 0) / names.length;
      for (const kind of names) offsets[kind]!.push(times[kind]! - mean);
    }
    const medians = Object.fromEntries(
      Object.entries(offsets).map(([kind, values]) => [kind, median(values)]),
    );
    const spread = Math.max(...Object.values(medians)) - Math.min(...Object.values(medians));
    t.diagnostic(`median offsets from their round (ms): ${JSON.stringify(medians)}`);
    // Looking the account up, storing a link and handing the mail to SMTP: done on the request
    // (measured by awaiting that work in the route), the known kinds stand out by ~10 ms or more.
    assert.ok(spread < 5, `median offsets ${JSON.stringify(medians)} spread ${spread.toFixed(2)} ms`);
  });
});
