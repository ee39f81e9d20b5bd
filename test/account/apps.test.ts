import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountSignIn, csrfOf, post, sentToSignIn } from '../helpers/account-agent.ts';
import { refreshes, signInForOffline } from '../helpers/app-access.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, API, BOB_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';

/** The "Remove access" forms of a page: the client ids they name. */
const listedApps = (html: string) => [...html.matchAll(/name="client" value="([^"]+)"/g)].map((m) => m[1]!);

/**
 * "Apps with access" on /account: the applications holding access to the person's account, and
 * taking it back — their refresh tokens stop working and the next sign-in asks again — for the
 * person's own access only.
 */
describe('/account: apps with access', () => {
  let lock: RunningLock;
  let offsetMs = 0;
  const audit = (username: string) =>
    lock.database.pool.query<{ outcome: string; reason: string | null; details: Record<string, unknown> }>(
      "SELECT outcome, reason, details FROM audit_events WHERE type = 'account.app.access_removed' AND subject = $1 ORDER BY id",
      [username],
    );

  before(async () => {
    lock = await startLock({ config: loginConfig, now: () => new Date(Date.now() + offsetMs) });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const signInTo = (client: 'partner-app' | 'web-app', username: string, password: string) =>
    signInForOffline(lock.issuer, client, username, password);

  it('lists what each app holds, and removing one ends its refresh tokens and asks again next time', async () => {
    const partner = await signInTo('partner-app', 'alice', ALICE_PASSWORD);
    assert.equal(partner.consentAsked, true, 'partner-app is not first-party: a consent page');
    const web = await signInTo('web-app', 'alice', ALICE_PASSWORD);
    const { agent, html } = await accountSignIn(lock.issuer, 'alice', ALICE_PASSWORD);

    // Both apps, with what they may do in words and the API; /account's own client is not among them.
    assert.deepEqual(listedApps(html).sort(), ['partner-app', 'web-app']);
    const section = html.slice(html.indexOf('id="apps"'));
    assert.match(section, /<strong>Partner App<\/strong>/);
    assert.match(section, /Stay connected when you are not using it/);
    assert.match(section, /See your name and basic profile/);
    assert.ok(
      section.includes(`On these APIs: ${API} (read)`),
      `the API it may call:\n${section.slice(0, 1500)}`,
    );

    const removed = await post(agent, lock.issuer, '/account/apps/remove', {
      csrf: csrfOf(html),
      client: 'partner-app',
    });
    assert.equal(removed.status, 303);
    assert.equal(removed.headers.get('location'), '/account?done=apps.removed#apps');
    const after = await (await agent.follow(`${lock.issuer}/account?done=apps.removed`)).response.text();
    assert.match(after, /The app&#39;s access was removed\./);
    assert.deepEqual(listedApps(after), ['web-app']);

    assert.equal(await refreshes(partner), 'invalid_grant', "partner-app's offline refresh token has ended");
    assert.equal(await refreshes(web), true, "web-app's access is untouched");
    assert.equal((await signInTo('partner-app', 'alice', ALICE_PASSWORD)).consentAsked, true, 'asked again');

    const { rows } = await audit('alice');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.outcome, 'success');
    assert.deepEqual(rows[0]!.details, { clientId: 'partner-app', consent: true, grants: 1 });
  });

  it("names only the person's own access: another person's app, made-up and odd ids change nothing", async () => {
    const alices = await signInTo('web-app', 'alice', ALICE_PASSWORD);
    const bob = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    // Bob's overview has no form (no app, one session): the password page's token.
    const csrf = csrfOf(await (await bob.agent.follow(`${lock.issuer}/account/password`)).response.text());
    const before = (await audit('bob')).rows.length;
    const answer = await post(bob.agent, lock.issuer, '/account/apps/remove', { csrf, client: 'web-app' });
    assert.equal(answer.headers.get('location'), '/account?done=apps.none#apps');
    assert.equal(await refreshes(alices), true, "alice's web-app access is untouched");
    const { rows } = await audit('bob');
    assert.equal(rows.length, before + 1);
    assert.deepEqual(
      [rows.at(-1)!.outcome, rows.at(-1)!.reason],
      ['failure', 'no access of this account for that client'],
    );

    for (const client of ['', 'web-app\u0000', 'x'.repeat(257), 'lock-account']) {
      const odd = await post(bob.agent, lock.issuer, '/account/apps/remove', { csrf, client });
      if (client === 'lock-account') {
        assert.equal(
          odd.headers.get('location'),
          '/account?done=apps.none#apps',
          'the page itself is not an app',
        );
        assert.match(
          await (await bob.agent.follow(`${lock.issuer}/account`)).response.text(),
          /Your account/,
        );
      } else assert.equal(odd.status, 400, JSON.stringify(client.slice(0, 20)));
    }
    const forged = await post(bob.agent, lock.issuer, '/account/apps/remove', { client: 'web-app' });
    assert.equal(forged.status, 403, 'no CSRF token');
  });

  it('needs a recent sign-in: an older one is sent through Lock’s sign-in and nothing is removed', async () => {
    const partner = await signInTo('partner-app', 'alice', ALICE_PASSWORD);
    const { agent, html } = await accountSignIn(lock.issuer, 'alice', ALICE_PASSWORD);
    const before = (await audit('alice')).rows.length;
    offsetMs = 6 * 60_000;
    try {
      const late = await post(agent, lock.issuer, '/account/apps/remove', {
        csrf: csrfOf(html),
        client: 'partner-app',
      });
      assert.ok(sentToSignIn(late, lock.issuer), `${late.status} ${late.headers.get('location')}`);
    } finally {
      offsetMs = 0;
    }
    assert.equal((await audit('alice')).rows.length, before, 'nothing audited');
    assert.equal(await refreshes(partner), true, 'nothing removed');
  });
});
