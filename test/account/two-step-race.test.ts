import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountSignIn, csrfOf, post } from '../helpers/account-agent.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { BOB_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { enrolmentSecret, recoveryCodesOf, totpCode } from '../helpers/second-factor.ts';

// Two-step sign-in changed from many tabs at once: one authenticator, one set of recovery codes.
describe('/account: two-step sign-in under concurrency', () => {
  let lock: RunningLock;
  const count = async (sql: string) => (await lock.database.pool.query<{ n: number }>(sql)).rows[0]!.n;

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('of 20 enrolments confirmed at once, one sets up the authenticator; 40 renewals leave ten codes', async () => {
    const { agent } = await accountSignIn(lock.issuer, 'bob', BOB_PASSWORD);
    const pages = await Promise.all(
      Array.from({ length: 20 }, async () =>
        (await agent.follow(`${lock.issuer}/account/two-step/enrol`)).response.text(),
      ),
    );
    const answers = await Promise.all(
      pages.map((html) =>
        post(agent, lock.issuer, '/account/two-step/enrol', {
          csrf: csrfOf(html),
          enrolment: /name="enrolment" value="([^"]+)"/.exec(html)![1]!,
          code: totpCode(enrolmentSecret(html)),
        }),
      ),
    );
    const statuses = answers.map((response) => response.status).sort();
    assert.deepEqual(statuses, [200, ...Array(19).fill(303)]);
    for (const response of answers.filter((each) => each.status === 303))
      assert.equal(response.headers.get('location'), '/account?done=two-step.already#two-step');
    assert.equal(await count('SELECT count(*)::int AS n FROM totp_credentials'), 1);
    assert.equal(await count('SELECT count(*)::int AS n FROM totp_recovery_codes'), 10);
    assert.equal(
      await count(
        "SELECT count(*)::int AS n FROM audit_events WHERE type = 'account.totp.enrolled' AND outcome = 'success'",
      ),
      1,
    );

    const overview = await (await agent.follow(`${lock.issuer}/account`)).response.text();
    const renewed = await Promise.all(
      Array.from({ length: 40 }, () =>
        post(agent, lock.issuer, '/account/two-step/recovery-codes', { csrf: csrfOf(overview) }),
      ),
    );
    assert.deepEqual(new Set(renewed.map((response) => response.status)), new Set([200]));
    const shown = await Promise.all(renewed.map(async (response) => recoveryCodesOf(await response.text())));
    assert.ok(shown.every((codes) => codes.length === 10));
    assert.equal(await count('SELECT count(*)::int AS n FROM totp_recovery_codes'), 10, 'one set of ten');
  });
});
