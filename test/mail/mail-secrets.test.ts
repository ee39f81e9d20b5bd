import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { linkIn, smtpUrl, waitForMail } from '../helpers/mailbox.ts';
import { getPage, MAIL_FROM, mailConfig, mailPerson, postPage } from './mail-fixtures.ts';

/** A Lock whose log lines this test reads. */
async function loggingLock(config: string, smtp: string) {
  const lines: string[] = [];
  const lock = await startLock({
    config,
    env: { LOCK_SMTP_URL: smtp, LOCK_MAIL_FROM: MAIL_FROM, LOG_LEVEL: 'info' },
    logDestination: { write: (line) => void lines.push(line) },
  });
  return { lock, lines };
}

describe('what the log says of mails and links', () => {
  const pia = mailPerson('pia');
  let running: { lock: RunningLock; lines: string[] };
  before(async () => {
    running = await loggingLock(mailConfig([pia]), smtpUrl());
  });
  after(async () => {
    await running?.lock.close();
    await running?.lock.database.drop();
  });

  it('writes a link’s path without its token, and never the SMTP credentials', async () => {
    const { lock, lines } = running;
    await postPage(`${lock.issuer}/reset`, { identifier: pia.username });
    const link = linkIn(
      await waitForMail(pia.email, { subject: /Reset your Lock password/ }),
      `${lock.issuer}/reset/`,
    );
    const token = link.slice(link.lastIndexOf('/') + 1);
    assert.equal((await getPage(link)).status, 200);
    const chosen = 'pia picked a passphrase';
    assert.equal((await postPage(link, { password: chosen, confirm: chosen })).status, 200);

    const log = lines.join('');
    assert.match(log, /"path":"\/reset\/…"/, 'the request lines name the page');
    assert.ok(!log.includes(token), 'the token is never written');
    assert.match(log, /"mail":"password_reset".*"msg":"mail sent"/);
    const smtpPassword = decodeURIComponent(new URL(smtpUrl()).password);
    assert.ok(!log.includes(smtpPassword), 'the SMTP password is never written');
    assert.ok(!log.includes(pia.email), 'nor the address a mail went to');
  });

  it('logs a failed send with the server’s host and the error code only', async () => {
    const down = new URL(smtpUrl());
    const smtpPassword = decodeURIComponent(down.password);
    down.port = String(await findFreePort());
    const failing = await loggingLock(mailConfig([mailPerson('quinn')]), down.toString());
    try {
      for (let wait = 0; wait < 100 && !failing.lines.join('').includes('could not be sent'); wait++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const line = failing.lines.find((entry) => entry.includes('a mail could not be sent'));
      assert.ok(line, 'the failed verification mail is logged');
      const entry = JSON.parse(line) as { server: string; failure: { code: string } };
      assert.equal(entry.server, `smtp://${down.host}`);
      assert.match(entry.failure.code, /^(ESOCKET|ECONNECTION)$/);
      assert.ok(!failing.lines.join('').includes(smtpPassword));
    } finally {
      await failing.lock.close();
      await failing.lock.database.drop();
    }
  });
});
