import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findFreePort } from '../../src/store/embedded-postgres.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { smtpUrl } from '../helpers/mailbox.ts';
import { startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';
import { getPage, MAIL_FROM, mailConfig, mailPerson, postPage } from './mail-fixtures.ts';

async function loginPage(issuer: string): Promise<string> {
  const request = await startAuthorization(
    issuer,
    { id: 'web-app', secret: WEB_SECRET },
    { redirect_uri: CALLBACK, scope: 'openid' },
  );
  const page = await new UserAgent(issuer).follow(request.url.toString());
  return page.response.text();
}

describe('mail off (no LOCK_SMTP_URL)', () => {
  const kim = mailPerson('kim');
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: mailConfig([kim]) });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('shows no "Forgot your password?" and answers 404 at /reset and /verify-email', async () => {
    const html = await loginPage(lock.issuer);
    assert.match(html, /name="password"/);
    assert.doesNotMatch(html, /Forgot|reset/i);
    assert.equal((await getPage(`${lock.issuer}/reset`)).status, 404);
    assert.equal((await postPage(`${lock.issuer}/reset`, { identifier: 'kim' })).status, 404);
    assert.equal((await getPage(`${lock.issuer}/reset/${'A'.repeat(43)}`)).status, 404);
    assert.equal((await postPage(`${lock.issuer}/verify-email/${'A'.repeat(43)}`, {})).status, 404);
    const account = await signIn(
      new UserAgent(lock.issuer),
      `${lock.issuer}/account`,
      kim.username,
      kim.password,
    );
    assert.match(account.html, /Your account/);
    assert.doesNotMatch(account.html, /id="email"|\/account\/email/);
  });

  it('is refused at start when only one of LOCK_SMTP_URL and LOCK_MAIL_FROM is set', async () => {
    await assert.rejects(
      startLock({ database: lock.database, env: { LOCK_SMTP_URL: smtpUrl() } }),
      /LOCK_SMTP_URL and LOCK_MAIL_FROM go together/,
    );
  });
});

describe('an SMTP server that is down', () => {
  const lee = mailPerson('lee');
  let lock: RunningLock;
  let smtpPassword: string;
  before(async () => {
    // The suite's credentials, but a port nothing listens on.
    const down = new URL(smtpUrl());
    smtpPassword = decodeURIComponent(down.password);
    down.port = String(await findFreePort());
    lock = await startLock({
      config: mailConfig([lee]),
      env: {
        LOCK_SMTP_URL: down.toString(),
        LOCK_MAIL_FROM: MAIL_FROM,
        LOCK_RATE_LIMIT_PASSWORD_RESET: '4',
        LOCK_RATE_LIMIT_WINDOW: '3600',
      },
    });
  });
  after(async () => {
    await lock?.close();
    await lock?.database.drop();
  });

  it('answers the reset form as always, and logs and audits the failed mail without the credentials', async () => {
    assert.match(await loginPage(lock.issuer), /Forgot your password\?/);
    const known = await postPage(`${lock.issuer}/reset`, { identifier: lee.username });
    const unknown = await postPage(`${lock.issuer}/reset`, { identifier: 'nobody-at-all' });
    assert.equal(known.status, 200);
    assert.equal(known.html, unknown.html);
    assert.ok(
      known.elapsedMs < 1_000,
      `answered in ${known.elapsedMs.toFixed(0)} ms: nothing waits for SMTP`,
    );

    // The verification mail of the file's account at start, and the reset mail: both fail.
    let failures: Array<{ subject: string; reason: string; details: Record<string, unknown> }> = [];
    for (let wait = 0; wait < 100 && failures.length < 2; wait++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      ({ rows: failures } = await lock.database.pool.query(
        "SELECT subject, reason, details FROM audit_events WHERE type = 'mail.failed' ORDER BY id",
      ));
    }
    assert.deepEqual(failures.map((failure) => [failure.subject, failure.details.kind]).sort(), [
      [lee.username, 'password_reset'],
      [lee.username, 'verify_email'],
    ]);
    for (const failure of failures) {
      assert.match(failure.reason, /^(ESOCKET|ECONNECTION)$/, 'the connection was refused');
      assert.doesNotMatch(JSON.stringify(failure), new RegExp(smtpPassword));
      assert.match(String(failure.details.server), /^smtp:\/\/127\.0\.0\.1:\d+$/);
    }
  });

  it('limits the posts of one address (LOCK_RATE_LIMIT_PASSWORD_RESET)', async () => {
    const statuses: number[] = [];
    for (let post = 0; post < 4; post++)
      statuses.push((await postPage(`${lock.issuer}/reset`, { identifier: `someone-${post}` })).status);
    assert.ok(statuses.includes(429), `statuses ${statuses.join(' ')}`);
  });
});
