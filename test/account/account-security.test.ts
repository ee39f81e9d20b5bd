import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import {
  ACCOUNT_COOKIE,
  accountSignIn,
  csrfOf,
  listedSessions,
  OVERVIEW,
  post,
  sentToSignIn,
} from '../helpers/account-agent.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  BOB_PASSWORD,
  CALLBACK,
  loginConfig,
  signIn,
  WEB_SECRET,
} from '../helpers/login-fixtures.ts';
import { redeem, startAuthorization } from '../helpers/relying-party.ts';
import { UserAgent } from '../helpers/user-agent.ts';

describe('/account: one person, their own sessions, their own forms', () => {
  let lock: RunningLock;
  const audit = (type: string, actorUsername: string) =>
    lock.database.pool.query<{ outcome: string; reason: string | null; details: Record<string, unknown> }>(
      'SELECT outcome, reason, details FROM audit_events WHERE type = $1 AND subject = $2 ORDER BY id',
      [type, actorUsername],
    );

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it("refuses to end another person's session: nothing ended, the refusal audited", async () => {
    const alice1 = await accountSignIn(lock.issuer, 'alice', ALICE_PASSWORD);
    const alice2 = await accountSignIn(lock.issuer, 'alice', ALICE_PASSWORD);
    const bob = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    // Alice's first browser lists her second session; Bob's page lists none of hers.
    const aliceSessions = listedSessions(
      await (await alice1.agent.follow(`${lock.issuer}/account`)).response.text(),
    );
    assert.equal(aliceSessions.length, 1, 'alice sees her other session');
    const bobPage = await (await bob.agent.follow(`${lock.issuer}/account`)).response.text();
    assert.deepEqual(listedSessions(bobPage), []);
    assert.doesNotMatch(bobPage, new RegExp(aliceSessions[0]!));

    // Bob's own page session's token (his overview has no form: he has one session, no app).
    const bobCsrf = csrfOf(await (await bob.agent.follow(`${lock.issuer}/account/password`)).response.text());
    const refused = await post(bob.agent, lock.issuer, '/account/sessions/end', {
      csrf: bobCsrf,
      session: aliceSessions[0]!,
    });
    assert.equal(refused.status, 303);
    assert.equal(refused.headers.get('location'), '/account?done=sessions.none#sessions');
    // Alice's second browser is still signed in, to /account and to Lock.
    assert.match(await (await alice2.agent.follow(`${lock.issuer}/account`)).response.text(), OVERVIEW);
    const { rows } = await audit('account.session.ended', 'bob');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.outcome, 'failure');
    assert.equal(rows[0]!.details.sessionUid, aliceSessions[0]);
  });

  it('ending a session ends what was issued in it, offline refresh tokens included', async () => {
    // Another device signs in to an application for offline access (a refresh token that outlives
    // the session unless ending the session ends it too).
    const request = await startAuthorization(
      lock.issuer,
      { id: 'web-app', secret: WEB_SECRET },
      { redirect_uri: CALLBACK, scope: 'openid offline_access', resource: API, prompt: 'consent' },
    );
    const device = await signIn(new UserAgent(lock.issuer), request.url.toString(), 'bob', BOB_PASSWORD);
    const tokens = await redeem(request, new URL(device.landed!));
    assert.ok(tokens.refresh_token);
    const { rows } = await lock.database.pool.query<{ payload: Record<string, unknown> }>(
      "SELECT payload FROM oidc_payloads WHERE model = 'RefreshToken' AND payload ->> 'clientId' = 'web-app'",
    );
    assert.equal(rows.length, 1);
    assert.match(String(rows[0]!.payload.scope), /offline_access/);
    assert.notEqual(
      rows[0]!.payload.expiresWithSession,
      true,
      'an offline refresh token: not bound to the session',
    );

    const bob = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    const [deviceSession] = listedSessions(bob.html);
    assert.ok(deviceSession);
    const ended = await post(bob.agent, lock.issuer, '/account/sessions/end', {
      csrf: csrfOf(bob.html),
      session: deviceSession,
    });
    assert.equal(ended.headers.get('location'), '/account?done=sessions.ended#sessions');
    await assert.rejects(
      oidc.refreshTokenGrant(request.config, tokens.refresh_token),
      (error: { error?: string }) => error.error === 'invalid_grant',
    );
  });

  it('refuses a form without its CSRF token, or with another page session’s, and changes nothing', async () => {
    const alice = await accountSignIn(lock.issuer, 'alice', ALICE_PASSWORD);
    const bob = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    const aliceCsrf = csrfOf(
      await (await alice.agent.follow(`${lock.issuer}/account/password`)).response.text(),
    );
    const change = {
      current_password: BOB_PASSWORD,
      new_password: 'bobs brand new passphrase',
      confirm_password: 'bobs brand new passphrase',
    };
    for (const csrf of [undefined, aliceCsrf, '']) {
      for (const [path, form] of [
        ['/account/password', change],
        ['/account/sessions/end-others', {}],
        ['/account/two-step/remove', {}],
        ['/account/two-step/recovery-codes', {}],
      ] as const) {
        const response = await post(bob.agent, lock.issuer, path, {
          ...form,
          ...(csrf !== undefined && { csrf }),
        });
        assert.equal(response.status, 403, `${path} with csrf ${csrf === undefined ? 'missing' : 'foreign'}`);
        assert.match(await response.text(), /This form has expired/);
      }
    }
    // Bob's password is unchanged: he signs in with it.
    await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    assert.equal((await audit('account.password.changed', 'bob')).rows.length, 0);
  });

  it('makes the account page’s cookie worthless once the person signs out of Lock', async () => {
    const alice = await accountSignIn(lock.issuer, 'alice', ALICE_PASSWORD);
    const cookie = alice.agent.cookie(ACCOUNT_COOKIE);
    assert.ok(cookie);
    const confirm = await alice.agent.follow(
      `${lock.issuer}/session/end?client_id=lock-account&post_logout_redirect_uri=${encodeURIComponent(`${lock.issuer}/account`)}`,
    );
    const page = await confirm.response.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)![1]!;
    const action = /<form[^>]*action="([^"]+)"/.exec(page)![1]!.replaceAll('&amp;', '&');
    const signedOut = await alice.agent.request(new URL(action, lock.issuer).toString(), {
      form: { xsrf, logout: 'yes' },
    });
    assert.equal(signedOut.headers.get('location'), `${lock.issuer}/account`);
    // The cookie alone, as a thief who copied it would present it: sent to sign in, nothing shown.
    const replayed = await fetch(`${lock.issuer}/account`, {
      headers: { cookie: `${ACCOUNT_COOKIE}=${cookie}` },
      redirect: 'manual',
    });
    assert.ok(
      sentToSignIn(replayed, lock.issuer, false),
      `status ${replayed.status} ${replayed.headers.get('location')}`,
    );
    const { rowCount } = await lock.database.pool.query(
      'SELECT 1 FROM account_sessions WHERE sub IN (SELECT sub FROM identities WHERE username = $1)',
      ['alice'],
    );
    assert.ok(rowCount !== null);
  });
});

describe('/account: form posts are rate-limited per address like login posts', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({
      config: loginConfig,
      env: { LOCK_RATE_LIMIT_LOGIN: '3', LOCK_RATE_LIMIT_WINDOW: '3600' },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('answers 429 with Retry-After past LOCK_RATE_LIMIT_LOGIN posts a window', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await fetch(`${lock.issuer}/account/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'csrf=x&current_password=guess',
        redirect: 'manual',
      });
      statuses.push(response.status);
      if (response.status === 429) assert.ok(response.headers.get('retry-after'));
    }
    assert.deepEqual(statuses, [303, 303, 303, 429, 429]);
  });
});
