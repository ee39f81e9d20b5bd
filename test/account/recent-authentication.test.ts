import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  accountSignIn,
  csrfOf,
  listedSessions,
  OVERVIEW,
  post,
  sentToSignIn,
} from '../helpers/account-agent.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { BOB_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { totpCode } from '../helpers/second-factor.ts';
import { readLoginForm } from '../helpers/user-agent.ts';

/**
 * Every change on /account needs a sign-in younger than LOCK_ACCOUNT_REAUTH_SECONDS (300 here, the
 * default). Lock's clock is moved six minutes on instead of waiting: each action is then sent
 * through Lock's sign-in (prompt=login), which comes back to the action's page; done then, it is
 * audited.
 */
describe('/account: changes need a recent sign-in', () => {
  let lock: RunningLock;
  let offsetMs = 0;
  const later = () => {
    offsetMs = 6 * 60_000;
  };
  const backToNow = () => {
    offsetMs = 0;
  };
  const audited = async (type: string) =>
    (
      await lock.database.pool.query<{ outcome: string }>(
        "SELECT outcome FROM audit_events WHERE type = $1 AND subject = 'bob' ORDER BY id",
        [type],
      )
    ).rows.map((row) => row.outcome);

  before(async () => {
    lock = await startLock({ config: loginConfig, now: () => new Date(Date.now() + offsetMs) });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('sends each action through a fresh sign-in, back to its page, and audits it once done', async () => {
    backToNow();
    const { agent } = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    // The page session's token, taken while the sign-in was recent (each sign-in makes a new page
    // session, so the token of the last page seen is the one to send).
    let csrf = csrfOf(await (await agent.follow(`${lock.issuer}/account/password`)).response.text());
    later();

    /** Completes the sign-in the response sent the browser to; returns the page it came back to. */
    const signInAgain = async (response: Response) => {
      assert.ok(
        sentToSignIn(response, lock.issuer),
        `${response.status} ${response.headers.get('location')}`,
      );
      backToNow();
      const login = await agent.follow(response.headers.get('location')!);
      const form = readLoginForm(await login.response.text());
      const back = await agent.follow(new URL(form.action, lock.issuer).toString(), {
        form: { csrf: form.csrf, username: 'bob', password: BOB_PASSWORD },
      });
      return { url: back.url!, html: await back.response.text() };
    };

    // The password form (a GET that leads to a change) and its POST.
    for (const response of [
      await agent.request(`${lock.issuer}/account/password`),
      await post(agent, lock.issuer, '/account/password', {
        csrf,
        current_password: BOB_PASSWORD,
        new_password: 'x-long-new-password',
        confirm_password: 'x-long-new-password',
      }),
    ])
      assert.ok(sentToSignIn(response, lock.issuer));
    assert.deepEqual(
      await audited('account.password.changed'),
      [],
      'nothing changed without a recent sign-in',
    );
    const passwordPage = await signInAgain(await agent.request(`${lock.issuer}/account/password`));
    assert.equal(new URL(passwordPage.url).pathname, '/account/password', 'back at the action');
    const changed = await post(agent, lock.issuer, '/account/password', {
      csrf: csrfOf(passwordPage.html),
      current_password: BOB_PASSWORD,
      new_password: 'bobs second passphrase',
      confirm_password: 'bobs second passphrase',
    });
    assert.equal(changed.headers.get('location'), '/account?done=password.changed#password');
    assert.deepEqual(await audited('account.password.changed'), ['success']);
    // Put it back, while the sign-in is recent, for the sign-ins below.
    const reset = await post(agent, lock.issuer, '/account/password', {
      csrf: csrfOf(passwordPage.html),
      current_password: 'bobs second passphrase',
      new_password: BOB_PASSWORD,
      confirm_password: BOB_PASSWORD,
    });
    assert.equal(reset.status, 303);

    // Setting up TOTP: the enrolment page, then its POST.
    later();
    assert.ok(sentToSignIn(await agent.request(`${lock.issuer}/account/two-step/enrol`), lock.issuer));
    const enrolPage = await signInAgain(await agent.request(`${lock.issuer}/account/two-step/enrol`));
    assert.equal(new URL(enrolPage.url).pathname, '/account/two-step/enrol');
    csrf = csrfOf(enrolPage.html);
    const secret = /id="totp-secret">([\s\S]*?)<\/code>/.exec(enrolPage.html)![1]!.replace(/<[^>]+>|\s/g, '');
    const enrolment = /name="enrolment" value="([^"]+)"/.exec(enrolPage.html)![1]!;
    later();
    const late = await post(agent, lock.issuer, '/account/two-step/enrol', {
      csrf,
      enrolment,
      code: totpCode(secret, Date.now() + offsetMs),
    });
    assert.deepEqual(await audited('account.totp.enrolled'), []);
    const again = await signInAgain(late);
    assert.equal(new URL(again.url).pathname, '/account/two-step/enrol', 'back at the enrolment page');
    csrf = csrfOf(again.html);
    const enrolled = await post(agent, lock.issuer, '/account/two-step/enrol', {
      csrf,
      enrolment: /name="enrolment" value="([^"]+)"/.exec(again.html)![1]!,
      code: totpCode(/id="totp-secret">([\s\S]*?)<\/code>/.exec(again.html)![1]!.replace(/<[^>]+>|\s/g, '')),
    });
    assert.equal(enrolled.status, 200);
    const recoveryCodes = [...(await enrolled.text()).matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map(
      (m) => m[1]!,
    );
    assert.equal(recoveryCodes.length, 10);
    assert.deepEqual(await audited('account.totp.enrolled'), ['success']);

    // From here Bob's sign-ins ask for a code too: the recovery codes answer.
    const signInWithCode = async (response: Response) => {
      assert.ok(
        sentToSignIn(response, lock.issuer),
        `${response.status} ${response.headers.get('location')}`,
      );
      backToNow();
      const login = await agent.follow(response.headers.get('location')!);
      const form = readLoginForm(await login.response.text());
      const step = await agent.follow(new URL(form.action, lock.issuer).toString(), {
        form: { csrf: form.csrf, username: 'bob', password: BOB_PASSWORD },
      });
      const codeForm = readLoginForm(await step.response.text());
      const back = await agent.follow(new URL(codeForm.action, lock.issuer).toString(), {
        form: { csrf: codeForm.csrf, code: recoveryCodes.shift()! },
      });
      return { url: back.url!, html: await back.response.text() };
    };

    for (const [path, type] of [
      ['/account/two-step/recovery-codes', 'account.recovery_codes.regenerated'],
      ['/account/two-step/remove', 'account.totp.removed'],
    ] as const) {
      later();
      const refused = await post(agent, lock.issuer, path, { csrf });
      assert.deepEqual(await audited(type), [], `${path}: nothing done without a recent sign-in`);
      const back = await signInWithCode(refused);
      assert.match(back.html, OVERVIEW, `${path}: back at the overview`);
      assert.equal(new URL(back.url).pathname, '/account');
      csrf = csrfOf(back.html);
      const done = await post(agent, lock.issuer, path, { csrf });
      assert.ok(done.status === 200 || done.status === 303, `${path}: ${done.status}`);
      if (path.endsWith('recovery-codes'))
        recoveryCodes.splice(
          0,
          recoveryCodes.length,
          ...[...(await done.text()).matchAll(/<li><code>([a-z2-7-]+)<\/code><\/li>/g)].map((m) => m[1]!),
        );
      assert.deepEqual(await audited(type), ['success'], `${path}: audited`);
    }

    // Sessions: end one, then all the others.
    const one = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    const other = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    const listed = listedSessions(await (await one.agent.follow(`${lock.issuer}/account`)).response.text());
    const overview = await (await agent.follow(`${lock.issuer}/account`)).response.text();
    const oneUid = listedSessions(overview).find((uid) => !listed.includes(uid));
    assert.ok(oneUid, "the first browser's session, as the overview lists it");
    later();
    const refusedEnd = await post(agent, lock.issuer, '/account/sessions/end', { csrf, session: oneUid });
    assert.deepEqual(await audited('account.session.ended'), []);
    assert.match(
      await (await one.agent.follow(`${lock.issuer}/account`)).response.text(),
      OVERVIEW,
      'not ended',
    );
    let back = await signInAgain(refusedEnd);
    assert.equal(new URL(back.url).pathname, '/account');
    csrf = csrfOf(back.html);
    const ended = await post(agent, lock.issuer, '/account/sessions/end', { csrf, session: oneUid });
    assert.equal(ended.headers.get('location'), '/account?done=sessions.ended#sessions');
    assert.deepEqual(await audited('account.session.ended'), ['success']);
    assert.ok(sentToSignIn(await one.agent.request(`${lock.issuer}/account`), lock.issuer, false), 'ended');

    later();
    const refusedOthers = await post(agent, lock.issuer, '/account/sessions/end-others', { csrf });
    assert.deepEqual(await audited('account.sessions.ended_others'), []);
    back = await signInAgain(refusedOthers);
    assert.match(back.html, OVERVIEW);
    csrf = csrfOf(back.html);
    const done = await post(agent, lock.issuer, '/account/sessions/end-others', { csrf });
    assert.equal(done.headers.get('location'), '/account?done=sessions.ended-others#sessions');
    assert.deepEqual(await audited('account.sessions.ended_others'), ['success']);
    assert.ok(
      sentToSignIn(await other.agent.request(`${lock.issuer}/account`), lock.issuer, false),
      'the other browser is signed out',
    );
    assert.match(
      await (await agent.follow(`${lock.issuer}/account`)).response.text(),
      OVERVIEW,
      'this one is not',
    );
  });
});
