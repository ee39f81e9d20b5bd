import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { enrolmentSecret, totpCode } from '../helpers/second-factor.ts';
import { Browser } from './totp-flow.ts';

// The attacker: an account of their own that must enrol (it holds a role that requires TOTP),
// and the victim alice's password, but not alice's authenticator.
const MALLORY_PASSWORD = 'mallory has her own account too';
const config = loginConfig.replace(
  'users:\n',
  `users:\n  - { username: mallory, password: "${MALLORY_PASSWORD}", roles: [app_admin] }\n`,
);

describe('the second-factor step is bound to the account that passed the password', () => {
  let lock: RunningLock;
  // Ten seconds into a 30-second step; moved on a step where a test needs a fresh code.
  let clock = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
  /** The keys of the authenticators the tests enrol (the attacker knows only mallory's). */
  const secrets: Record<string, string> = {};

  before(async () => {
    lock = await startLock({
      config,
      now: () => new Date(clock),
      // Some 300 login posts race here: the per-address login rate limit is not what is tested.
      env: { LOCK_MFA_REQUIRED_ROLES: 'app_admin', LOCK_RATE_LIMIT_LOGIN: '0' },
    });
    // alice enrols once, as she would; the attacker never sees her key.
    const alice = new Browser(lock.issuer);
    await alice.authorize('web-app');
    await alice.submit({ username: 'alice', password: ALICE_PASSWORD });
    secrets.alice = enrolmentSecret(alice.page.html);
    await alice.submit({ code: totpCode(secrets.alice, clock) });
    await alice.submit();
    const signedIn = await alice.outcome();
    assert.ok(signedIn.signedIn && signedIn.username === 'alice');
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  /** mallory must enrol again (the attack needs an account of one's own in the enrolment stage). */
  const resetMallory = () =>
    lock.database.pool.query(
      `WITH u AS (SELECT id FROM users WHERE username = 'mallory'),
            r AS (DELETE FROM totp_recovery_codes WHERE user_id IN (SELECT id FROM u))
       DELETE FROM totp_credentials WHERE user_id IN (SELECT id FROM u)`,
    );

  /** A browser at mallory's enrolment page: the login form it came from and the enrolment form. */
  const malloryEnrolling = async () => {
    const browser = new Browser(lock.issuer);
    await browser.authorize('web-app');
    const login = browser.form();
    await browser.submit({ username: 'mallory', password: MALLORY_PASSWORD });
    const secret = enrolmentSecret(browser.page.html);
    const restart = /<a href="([^"]+)">Sign in as someone else/
      .exec(browser.page.html)![1]!
      .replaceAll('&amp;', '&');
    return {
      browser,
      login,
      enrol: browser.form(),
      secret,
      restart: new URL(restart, browser.page.url).toString(),
    };
  };

  /** How long a request takes, from sending to the answer. */
  const timed = async (request: () => Promise<unknown>) => {
    const started = performance.now();
    await request();
    return performance.now() - started;
  };

  /**
   * The attacker times the race: how long alice's password takes to be checked (her step is
   * written near its end) and how long an enrolment code takes (its stage change near its end).
   */
  const calibrate = async () => {
    const browser = new Browser(lock.issuer);
    await browser.authorize('web-app');
    const login = browser.form();
    const password = await timed(() =>
      browser.agent.request(login.action, {
        form: { csrf: login.csrf, username: 'alice', password: ALICE_PASSWORD },
      }),
    );
    await resetMallory();
    const { browser: enrolling, enrol, secret } = await malloryEnrolling();
    const code = await timed(() =>
      enrolling.agent.request(enrol.action, { form: { csrf: enrol.csrf, code: totpCode(secret, clock) } }),
    );
    return { password, code };
  };

  it('racing the victim’s password against the enrolment code of one’s own account never signs in as the victim', async () => {
    const iterations = 60;
    const timing = await calibrate();
    // The code must be read before alice's step is written and change the stage after it: sweep
    // the code's start across that window, 1 ms apart.
    const earliest = Math.max(0, timing.password - timing.code - 10);
    const outcomes: string[] = [];
    for (let i = 0; i < iterations; i++) {
      await resetMallory();
      const { browser, login, enrol, secret, restart } = await malloryEnrolling();
      // Every fourth try first ends mallory's step by "Sign in as someone else", so that the
      // password is taken, and races the code against that.
      const viaRestart = i % 4 === 3;
      const offset = earliest + (i % 30);
      await Promise.all([
        (async () => {
          if (viaRestart) await browser.agent.request(restart);
          await browser.agent.request(login.action, {
            form: { csrf: login.csrf, username: 'alice', password: ALICE_PASSWORD },
          });
        })(),
        (async () => {
          await sleep(offset);
          await browser.agent.request(enrol.action, {
            form: { csrf: enrol.csrf, code: totpCode(secret, clock) },
          });
        })(),
      ]);
      // The attacker goes on from wherever the interaction now stands.
      await browser.open(enrol.action);
      if (/Save your recovery codes/.test(browser.page.html)) await browser.submit();
      const outcome = await browser.outcome();
      outcomes.push(
        outcome.signedIn ? `${outcome.username} ${JSON.stringify(outcome.amr)}` : 'not signed in',
      );
    }
    const asVictim = outcomes.filter((outcome) => outcome.startsWith('alice'));
    assert.equal(
      asVictim.length,
      0,
      `signed in as alice without her code (${JSON.stringify(timing)}): ${outcomes.join('; ')}`,
    );
    assert.ok(
      outcomes.some((outcome) => outcome.startsWith('mallory ["pwd","otp"]')),
      `the attacker's own sign-ins went through, so the race ran: ${outcomes.join('; ')}`,
    );
  });

  it('a password posted while a second factor waits is refused: the step, and whose sign-in it is, stay', async () => {
    await resetMallory();
    const { browser, login, secret } = await malloryEnrolling();
    let page = await browser.open(login.action, {
      csrf: login.csrf,
      username: 'alice',
      password: ALICE_PASSWORD,
    });
    assert.equal(page.status, 409);
    assert.match(page.html, /waiting for the second step of mallory/);
    assert.match(page.html, /Set up two-step sign-in/);
    assert.equal(enrolmentSecret(page.html), secret, "still mallory's enrolment, same key");
    await browser.submit({ code: totpCode(secret, clock) });
    await browser.submit();
    const enrolled = await browser.outcome();
    assert.ok(enrolled.signedIn);
    assert.deepEqual([enrolled.username, enrolled.amr], ['mallory', ['pwd', 'otp']]);
    secrets.mallory = secret;

    // Enrolled now: the verification step is bound the same way.
    clock += 30_000;
    const again = new Browser(lock.issuer);
    await again.authorize('web-app');
    const form = again.form();
    await again.submit({ username: 'mallory', password: MALLORY_PASSWORD });
    assert.match(again.page.html, /Enter your code/);
    page = await again.open(form.action, { csrf: form.csrf, username: 'alice', password: ALICE_PASSWORD });
    assert.equal(page.status, 409);
    assert.match(page.html, /Enter your code[\s\S]*mallory/);
    await again.submit({ code: totpCode(secret, clock) });
    const outcome = await again.outcome();
    assert.ok(outcome.signedIn);
    assert.equal(outcome.username, 'mallory');
  });

  it('of passwords posted at once in one interaction, the first to start a step decides; finishing signs in as that account', async () => {
    clock += 30_000;
    const browser = new Browser(lock.issuer);
    await browser.authorize('web-app');
    const login = browser.form();
    // Ten: the most password posts one interaction takes (the per-interaction attempt cap).
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        browser.agent.request(login.action, {
          form:
            i % 2 === 0
              ? { csrf: login.csrf, username: 'alice', password: ALICE_PASSWORD }
              : { csrf: login.csrf, username: 'mallory', password: MALLORY_PASSWORD },
        }),
      ),
    );
    const statuses = responses.map((response) => response.status).sort();
    assert.deepEqual(
      statuses,
      [303, ...Array(9).fill(409)],
      'one step started, every other password refused',
    );
    for (const response of responses.filter(({ status }) => status === 409))
      assert.match(await response.text(), /waiting for the second step of (alice|mallory)/);
    const page = await browser.open(login.action.replace(/\/login$/, '/totp'));
    const waitingFor = /for <strong class="client-name">(\w+)<\/strong>/.exec(page.html)?.[1];
    assert.ok(waitingFor === 'alice' || waitingFor === 'mallory', page.html.slice(0, 300));
    await browser.submit({ code: totpCode(secrets[waitingFor]!, clock) });
    const outcome = await browser.outcome();
    assert.ok(outcome.signedIn, JSON.stringify(outcome));
    assert.equal(outcome.username, waitingFor);
  });
});

describe('passwords, restarts and passwords again, all at once in one interaction', () => {
  let lock: RunningLock;
  const clock = Math.floor(Date.now() / 30_000) * 30_000 + 10_000;
  before(async () => {
    lock = await startLock({
      config,
      now: () => new Date(clock),
      // Hundreds of form posts a minute from one address: the rate limit would answer them first.
      env: { LOCK_MFA_REQUIRED_ROLES: 'app_admin', LOCK_RATE_LIMIT_LOGIN: '0' },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('never finish a sign-in that needs a second factor with the password alone', async () => {
    const finishedWithPasswordOnly: string[] = [];
    for (let round = 0; round < 20; round++) {
      const browser = new Browser(lock.issuer);
      await browser.authorize('web-app');
      const login = browser.form();
      await browser.submit({ username: 'mallory', password: MALLORY_PASSWORD });
      // mallory's step token is the same for every step of hers in this interaction: the
      // attacker can end each one as soon as it starts, while passwords keep arriving.
      const restart = /<a href="([^"]+)">Sign in as someone else/
        .exec(browser.page.html)![1]!
        .replaceAll('&amp;', '&');
      const restartUrl = new URL(restart, browser.page.url).toString();
      const post = (username: string, password: string) =>
        browser.agent.request(login.action, { form: { csrf: login.csrf, username, password } });
      let posting = true;
      // Two restart loops end whatever step of mallory's exists, as fast as they can.
      const hammers = Array.from({ length: 2 }, async () => {
        while (posting) await browser.agent.request(restartUrl);
      });
      const responses = await Promise.all(
        Array.from({ length: 16 }, async (_, i) => {
          await sleep(i * 3);
          if (i % 2 === 0) return { who: 'mallory', response: await post('mallory', MALLORY_PASSWORD) };
          return { who: 'alice', response: await post('alice', ALICE_PASSWORD) };
        }),
      );
      posting = false;
      await Promise.all(hammers);
      for (const { who, response } of responses) {
        const location = response.headers.get('location') ?? '';
        // A finished login goes back to oidc-provider (/auth/<uid>); a second factor to /totp.
        if (location.includes('/auth/')) finishedWithPasswordOnly.push(`${who} ${location}`);
      }
    }
    assert.deepEqual(finishedWithPasswordOnly, []);
  });
});
