import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { signIn } from '../helpers/login-fixtures.ts';
import { linkIn, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { SoftwareAuthenticator } from '../helpers/webauthn.ts';
import { MAIL_FROM, mailConfig, mailPerson, postPage } from './mail-fixtures.ts';

// A passkey added on /account is told to the account's verified address (docs/email.md).
describe('/account: a passkey added mails a security notice (real SMTP)', () => {
  const pia = mailPerson('pia');
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({
      config: mailConfig([pia]),
      env: { LOCK_SMTP_URL: smtpUrl(), LOCK_MAIL_FROM: MAIL_FROM },
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('mails the verified address the passkey’s name, and never a key or a challenge', async () => {
    const confirm = linkIn(
      await waitForMail(pia.email, { subject: /Confirm your email/ }),
      `${lock.issuer}/verify-email/`,
    );
    assert.equal((await postPage(confirm, {})).status, 200);
    const agent = new UserAgent(lock.issuer);
    await signIn(agent, `${lock.issuer}/account`, pia.username, pia.password);
    const page = await (await agent.request(`${lock.issuer}/account/passkeys/add`)).text();
    const csrf = /data-csrf="([^"]+)"/.exec(page)![1]!;
    const options = await agent.request(`${lock.issuer}/account/passkeys/options`, { json: { csrf } });
    const optionsBody = (await options.json()) as { challenge: string };
    const response = new SoftwareAuthenticator(new URL(lock.issuer).origin).register(optionsBody as never);
    const added = await agent.request(`${lock.issuer}/account/passkeys/register`, {
      json: { csrf, name: 'Pia’s phone', response },
    });
    assert.equal(added.status, 200);
    const notice = await waitForMail(pia.email, { subject: /A passkey was added to your Lock account/ });
    assert.match(notice.text, /Passkey: Pia’s phone/);
    assert.doesNotMatch(notice.text, new RegExp(optionsBody.challenge));
    assert.doesNotMatch(notice.text, new RegExp(response.id));
  });
});
