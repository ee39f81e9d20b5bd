import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { commandEnv, lockCommand } from '../helpers/lock-command.ts';
import { linkIn, mailAddress, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import { MAIL_FROM, mailConfig, postPage } from './mail-fixtures.ts';

describe('lock users: mail from the CLI (real SMTP)', () => {
  let lock: RunningLock;
  const lockCli = (args: string[], stdin: string) =>
    lockCommand(args, {
      // The CLI runs with the server's environment: its links start with the same issuer.
      env: commandEnv(lock, {
        LOCK_ISSUER: lock.issuer,
        LOCK_SMTP_URL: smtpUrl(),
        LOCK_MAIL_FROM: MAIL_FROM,
        LOG_LEVEL: 'silent',
      }),
      stdin,
    });

  before(async () => {
    lock = await startLock({
      config: mailConfig([]),
      env: { LOCK_SMTP_URL: smtpUrl(), LOCK_MAIL_FROM: MAIL_FROM },
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('`lock users add --email` mails a verification link; `lock users passwd` a notice to the verified address', async () => {
    const email = mailAddress('olga');
    const added = await lockCli(['users', 'add', 'olga', '--email', email], 'olga has a long passphrase\n');
    assert.equal(added.code, 0, added.stderr);
    // Sent before the command exits.
    const link = linkIn(
      await waitForMail(email, { subject: /Confirm your email/, timeoutMs: 2_000 }),
      `${lock.issuer}/verify-email/`,
    );
    assert.equal((await postPage(link, {})).status, 200);

    const changed = await lockCli(['users', 'passwd', 'olga'], 'olga got a new passphrase\n');
    assert.equal(changed.code, 0, changed.stderr);
    const notice = await waitForMail(email, { subject: /Your Lock password was changed/, timeoutMs: 2_000 });
    assert.match(notice.text, /done by an administrator/);
    assert.doesNotMatch(
      added.stdout + added.stderr + changed.stdout + changed.stderr,
      /lock-mailer:/,
      'no SMTP credentials printed',
    );
  });
});
