// A sign-in whose statement PostgreSQL aborts to break a deadlock is told to try again in a moment
// (503, Retry-After), not that Lock failed (500); the next try signs in. Lock takes shared rows in
// one order, so the deadlock is made here: the test holds the sign-in's address counter and then
// wants the name counter the sign-in took first.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { openLoginForm, postOnce } from '../helpers/sign-in-attempts.ts';

describe('a sign-in aborted by a database deadlock', () => {
  let lock: RunningLock;

  before(async () => {
    lock = await startLock({ config: loginConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('is answered 503 with Retry-After, and the next try signs in', async () => {
    // One wrong password first: the name and address counters exist.
    assert.equal((await postOnce(lock.issuer, 'alice', 'not her password')).outcome, 'refused');
    const { rows } = await lock.database.pool.query<{ key: string }>(
      "SELECT key FROM login_failures WHERE key LIKE 'address:%' OR key LIKE 'account:%' ORDER BY key",
    );
    const [name, address] = rows.map((row) => row.key);
    assert.ok(name?.startsWith('account:') && address?.startsWith('address:'), JSON.stringify(rows));

    const post = await openLoginForm(lock.issuer);
    const holder = await lock.database.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT key FROM login_failures WHERE key = $1 FOR UPDATE', [address]);
      // The sign-in takes the name counter, then waits for the address counter the test holds…
      const signIn = post('alice', ALICE_PASSWORD);
      await sleep(300);
      // …and the test now wants the name counter: PostgreSQL aborts the one that waited first.
      const taking = holder.query('UPDATE login_failures SET failures = failures WHERE key = $1', [name]);
      const answer = await signIn;
      await taking;
      await holder.query('COMMIT');
      assert.equal(answer.status, 503, `the person was answered ${answer.status}`);
      assert.equal(answer.retryAfter, '1');
    } finally {
      holder.release();
    }
    assert.equal((await postOnce(lock.issuer, 'alice', ALICE_PASSWORD)).outcome, 'signed in');
  });
});
