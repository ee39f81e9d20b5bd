import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { countAuditedAttempts } from '../helpers/audit.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { signIn } from '../helpers/login-fixtures.ts';
import { linkIn, mailAddress, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { MAIL_FROM, mailConfig, mailPerson, postPage, signInWithEmailScope } from './mail-fixtures.ts';

const csrfOf = (html: string) => {
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, `no csrf field in:\n${html.slice(0, 600)}`);
  return csrf;
};

describe('/account: email address (real SMTP)', () => {
  const mia = mailPerson('mia');
  const noa = mailPerson('noa');
  let lock: RunningLock;
  let offsetMs = 0;

  before(async () => {
    lock = await startLock({
      config: mailConfig([mia, noa]),
      env: { LOCK_SMTP_URL: smtpUrl(), LOCK_MAIL_FROM: MAIL_FROM },
      now: () => new Date(Date.now() + offsetMs),
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('changes the address only once the new one is confirmed, and tells the old one', async () => {
    // Mia confirms the address the file gave her.
    const first = linkIn(
      await waitForMail(mia.email, { subject: /Confirm your email/ }),
      `${lock.issuer}/verify-email/`,
    );
    assert.equal((await postPage(first, {})).status, 200);

    const agent = new UserAgent(lock.issuer);
    const overview = await signIn(agent, `${lock.issuer}/account`, mia.username, mia.password);
    assert.match(overview.html, /id="email"/);
    assert.match(overview.html, new RegExp(`${mia.email}</strong> — confirmed`));

    const form = await agent.follow(`${lock.issuer}/account/email`);
    const formHtml = await form.response.text();
    assert.match(formHtml, /Change your email address/);
    const csrf = csrfOf(formHtml);

    const invalid = await agent.follow(`${lock.issuer}/account/email`, {
      form: { csrf, email: 'not an address' },
    });
    assert.equal(invalid.response.status, 400);
    const forged = await agent.follow(`${lock.issuer}/account/email`, {
      form: { csrf: 'forged', email: mailAddress('x') },
    });
    assert.equal(forged.response.status, 403, 'a form without its CSRF token changes nothing');

    const newer = mailAddress('mia-new');
    const sent = await agent.follow(`${lock.issuer}/account/email`, { form: { csrf, email: newer } });
    assert.match(sent.url!, /\/account\?done=email\.sent/);
    const page = await sent.response.text();
    assert.match(page, /We mailed a confirmation link to the new address/);
    assert.match(
      page,
      new RegExp(`${mia.email}</strong> — confirmed`),
      'the old address stays until confirmed',
    );
    assert.equal(
      await countAuditedAttempts(lock.database.pool, {
        subject: mia.username,
        type: 'account.email.change_requested',
      }),
      1,
    );

    const mail = await waitForMail(newer, { subject: /Confirm your new email address/ });
    assert.equal((await postPage(linkIn(mail, `${lock.issuer}/verify-email/`), {})).status, 200);

    const notice = await waitForMail(mia.email, {
      subject: /email address of your Lock account was changed/,
    });
    assert.match(notice.text, /no longer receives the account’s mails/);
    const tokens = (await signInWithEmailScope(lock.issuer, mia.username, mia.password)).tokens;
    assert.equal(tokens?.claims()?.email, newer);
    assert.equal(tokens?.claims()?.email_verified, true);
    mia.email = newer;
  });

  it('asks for a recent sign-in before a change', async () => {
    const agent = new UserAgent(lock.issuer);
    await signIn(agent, `${lock.issuer}/account`, mia.username, mia.password);
    const form = await agent.follow(`${lock.issuer}/account/email`);
    const csrf = csrfOf(await form.response.text());
    offsetMs = 6 * 60_000;
    try {
      const stale = await agent.request(`${lock.issuer}/account/email`, {
        form: { csrf, email: mailAddress('late') },
      });
      assert.equal(stale.status, 303);
      assert.match(stale.headers.get('location') ?? '', /prompt=login/);
    } finally {
      offsetMs = 0;
    }
  });

  it('tells the verified address when the password is changed on the page', async () => {
    const confirm = linkIn(
      await waitForMail(noa.email, { subject: /Confirm your email/ }),
      `${lock.issuer}/verify-email/`,
    );
    assert.equal((await postPage(confirm, {})).status, 200);
    const agent = new UserAgent(lock.issuer);
    await signIn(agent, `${lock.issuer}/account`, noa.username, noa.password);
    const csrf = csrfOf(await (await agent.follow(`${lock.issuer}/account/password`)).response.text());
    const newPassword = `${noa.password} and more`;
    const changed = await agent.follow(`${lock.issuer}/account/password`, {
      form: {
        csrf,
        current_password: noa.password,
        new_password: newPassword,
        confirm_password: newPassword,
      },
    });
    assert.equal(changed.response.status, 200);
    const notice = await waitForMail(noa.email, { subject: /Your Lock password was changed/ });
    assert.doesNotMatch(notice.text, new RegExp(newPassword), 'a notice never carries the password');
  });
});
