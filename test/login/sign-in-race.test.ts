import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { countAuditedAttempts } from '../helpers/audit.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, BOB_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { openLoginForm, postOnce } from '../helpers/sign-in-attempts.ts';

const DORA_PASSWORD = 'dora has a long password too';
const config = `${loginConfig}  - { username: dora, password: "${DORA_PASSWORD}" }\n`;

/** The default account threshold (DEFAULT_BRUTE_FORCE_POLICY.accountThreshold). */
const THRESHOLD = 30;

// Each test on a Lock of its own: the guesses of one would otherwise lock the others' address.
describe('password sign-in under concurrent guessing', () => {
  let lock: RunningLock;

  beforeEach(async () => {
    lock = await startLock({ config });
  });
  afterEach(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const auditCount = (subject: string, type: string, outcome?: 'success') =>
    countAuditedAttempts(lock.database.pool, { subject, type, ...(outcome && { outcome }) });

  it('a burst of 60 concurrent wrong passwords is checked at most 30 times, and the right one sent inside it is refused', async () => {
    // Each post on a sign-in of its own: the burst is about the account, not the per-interaction cap.
    const forms = await Promise.all(
      Array.from({ length: 2 * THRESHOLD + 1 }, () => openLoginForm(lock.issuer)),
    );
    const results = await Promise.all(
      forms.map((post, index) =>
        index === 2 * THRESHOLD ? post('alice', ALICE_PASSWORD) : post('alice', `wrong guess ${index}`),
      ),
    );
    assert.equal(
      results.at(-1)!.outcome,
      'refused',
      'the right password, sent after 60 guesses, does not get in',
    );
    assert.deepEqual(new Set(results.map((result) => result.outcome)), new Set(['refused']));

    // Every post was answered, but no more than the threshold had their password checked.
    const checked = await auditCount('alice', 'login.password');
    const lockedOut = await auditCount('alice', 'login.locked_out');
    assert.equal(checked + lockedOut, 2 * THRESHOLD + 1);
    assert.ok(checked <= THRESHOLD, `${checked} passwords were checked; the threshold is ${THRESHOLD}`);
    assert.equal(await auditCount('alice', 'login.password', 'success'), 0);

    assert.equal(
      (await postOnce(lock.issuer, 'alice', ALICE_PASSWORD)).outcome,
      'refused',
      'and stays locked',
    );
  });

  it('one sign-in takes 10 password posts; the 11th, even the right password, must start again', async () => {
    const post = await openLoginForm(lock.issuer);
    for (let guess = 0; guess < 10; guess++)
      assert.equal((await post('bob', `wrong ${guess}`)).outcome, 'refused');
    const eleventh = await post('bob', BOB_PASSWORD);
    assert.equal(eleventh.status, 429);
    assert.equal(eleventh.outcome, 'too many attempts');
    // The account itself is not locked: a new sign-in works at once.
    assert.equal((await postOnce(lock.issuer, 'bob', BOB_PASSWORD)).outcome, 'signed in');
  });

  it('the posts of one sign-in, sent at once, are capped at 10 too', async () => {
    const post = await openLoginForm(lock.issuer);
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, index) => post('bob', `wrong ${index}`)),
    );
    assert.equal(results.filter((result) => result.outcome === 'refused').length, 10);
    assert.equal(results.filter((result) => result.outcome === 'too many attempts').length, 15);
  });

  it('case and width variants of a typed name share one budget (NFKC, case-folded)', async () => {
    // 15 + 15 wrong guesses under two spellings of one name lock it: 30 in all.
    for (let guess = 0; guess < 15; guess++) {
      assert.equal((await postOnce(lock.issuer, 'dora', `wrong ${guess}`)).outcome, 'refused');
      assert.equal((await postOnce(lock.issuer, 'ＤＯＲＡ', `wrong ${guess}`)).outcome, 'refused');
    }
    assert.equal((await postOnce(lock.issuer, 'Dora', DORA_PASSWORD)).outcome, 'refused');
    assert.equal(await auditCount('Dora', 'login.locked_out'), 1);
  });
});
