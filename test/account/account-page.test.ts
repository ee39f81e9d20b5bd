import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig, signIn } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

const NEW_PASSWORD = 'a new and rather long passphrase';

/** The page's form fields: its action and CSRF token (the first form with a csrf field). */
function formOf(html: string, action: string) {
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(csrf, `no csrf field in:\n${html.slice(0, 800)}`);
  assert.ok(html.includes(`action="${action}"`), `no form posting to ${action}`);
  return csrf;
}

describe('/account', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('signs in through Lock, changes the password, and the old one is refused afterwards', async () => {
    const agent = new UserAgent(lock.issuer);
    const overview = await signIn(agent, `${lock.issuer}/account`, 'alice', ALICE_PASSWORD);
    assert.equal(overview.landed, undefined);
    assert.match(overview.html, /<h1>Your account<\/h1>/);
    assert.match(overview.html, /alice/);

    const form = await agent.follow(`${lock.issuer}/account/password`);
    const html = await form.response.text();
    const csrf = formOf(html, '/account/password');

    // Refusals a person can act on: the page again, with the reason; a wrong current password audited.
    for (const [fields, message] of [
      [
        { current_password: 'not my password', new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD },
        /Your current password is not right\./,
      ],
      [
        { current_password: ALICE_PASSWORD, new_password: 'password', confirm_password: 'password' },
        /one of the most commonly used passwords/,
      ],
      [
        { current_password: ALICE_PASSWORD, new_password: 'short', confirm_password: 'short' },
        /too short: use at least 8 characters/,
      ],
      [
        { current_password: ALICE_PASSWORD, new_password: NEW_PASSWORD, confirm_password: 'something else' },
        /do not match/,
      ],
    ] as const) {
      const refused = await agent.request(`${lock.issuer}/account/password`, { form: { csrf, ...fields } });
      assert.equal(refused.status, 400);
      const page = await refused.text();
      assert.match(page, message);
      assert.match(page, /<title>Error: Change your password – Lock<\/title>/);
    }
    const { rows } = await lock.database.pool.query<{ outcome: string; reason: string; actor: string }>(
      "SELECT outcome, reason, actor FROM audit_events WHERE type = 'account.password.changed'",
    );
    assert.deepEqual(
      rows.map((row) => [row.outcome, row.reason]),
      [['failure', 'wrong current password']],
    );

    const changed = await agent.follow(`${lock.issuer}/account/password`, {
      form: {
        csrf,
        current_password: ALICE_PASSWORD,
        new_password: NEW_PASSWORD,
        confirm_password: NEW_PASSWORD,
      },
    });
    assert.match(changed.url!, /\/account\?done=password\.changed/);
    assert.match(await changed.response.text(), /Your password was changed/);

    // In the person's language (Accept-Language): the same page, in German.
    const german = await fetch(`${lock.issuer}/account`, {
      headers: {
        cookie: `lock_account=${agent.cookie('lock_account')}`,
        'accept-language': 'de-CH, en;q=0.5',
      },
    });
    const germanHtml = await german.text();
    assert.match(germanHtml, /<html lang="de">/);
    assert.match(germanHtml, /<h1>Ihr Konto<\/h1>/);
    assert.equal(german.headers.get('content-language'), 'de');

    const old = await signIn(new UserAgent(lock.issuer), `${lock.issuer}/account`, 'alice', ALICE_PASSWORD);
    assert.doesNotMatch(old.html, /<h1>Your account<\/h1>/);
    const fresh = await signIn(new UserAgent(lock.issuer), `${lock.issuer}/account`, 'alice', NEW_PASSWORD);
    assert.match(fresh.html, /<h1>Your account<\/h1>/);
  });
});
