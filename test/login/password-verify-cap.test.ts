import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';
import { openLoginForm, type PostResult } from '../helpers/sign-in-attempts.ts';

describe('the bound on concurrent password verifies', () => {
  let lock: RunningLock;

  before(async () => {
    // One verify at a time and two waiting: small enough that a modest flood overflows it.
    lock = await startLock({
      config: loginConfig,
      env: { LOCK_PASSWORD_VERIFY_CONCURRENCY: '1', LOCK_PASSWORD_VERIFY_QUEUE: '2' },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('a flood of 60 anonymous guesses gets 503 with Retry-After beyond it, and a person still signs in', async () => {
    const flood = await Promise.all(Array.from({ length: 60 }, () => openLoginForm(lock.issuer)));
    const person = await openLoginForm(lock.issuer);

    /** A person who, told to come back, does so after Retry-After. */
    const signIn = async () => {
      const started = performance.now();
      const answers: PostResult[] = [];
      for (let attempt = 0; attempt < 10; attempt++) {
        const answer = await person('alice', ALICE_PASSWORD);
        answers.push(answer);
        if (answer.outcome !== 'busy') break;
        await sleep(Number(answer.retryAfter) * 1000);
      }
      return { answers, elapsedMs: performance.now() - started };
    };
    const [results, personal] = await Promise.all([
      Promise.all(flood.map((post, index) => post(`nobody-${index}`, 'a guess'))),
      (async () => {
        await sleep(20); // inside the flood
        return signIn();
      })(),
    ]);

    const busy = results.filter((result) => result.outcome === 'busy');
    assert.ok(
      busy.length > 0,
      `some of the flood is turned away (${results.map((r) => r.outcome).join(', ')})`,
    );
    for (const answer of busy) {
      assert.equal(answer.status, 503);
      assert.match(answer.retryAfter ?? '', /^[1-9]\d*$/);
    }
    assert.ok(
      results.some((result) => result.outcome === 'refused'),
      'what fits in the bound is checked',
    );
    assert.deepEqual(
      new Set(results.map((result) => result.outcome)),
      new Set(['busy', 'refused']),
      'nothing else (no 500)',
    );
    assert.equal(personal.answers.at(-1)!.outcome, 'signed in');
    assert.ok(personal.elapsedMs < 10_000, `the person got in after ${personal.elapsedMs.toFixed(0)} ms`);
  });
});
