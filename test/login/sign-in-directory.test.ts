import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { verifyAgainstDummy } from '../../src/security/passwords.ts';
import { lockConfig } from '../connectors/lock-flow.ts';
import { openLdap, sambaAd, type TestDirectory, type TestUser } from '../helpers/directories.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { median, openLoginForm, postOnce } from '../helpers/sign-in-attempts.ts';

const run = promisify(execFile);

/** A Lock trying `directory` (as corp-dir) and then its own accounts, and a user of the directory's own. */
async function lockWithDirectory(directory: TestDirectory) {
  const lock = await startLock({
    config: lockConfig([{ id: 'corp-dir', type: 'ldap', config: directory.connectorConfig() }]),
  });
  return lock;
}

describe('the aliases of one Active Directory account share its budget (Samba AD)', () => {
  const ad = sambaAd();
  let lock: RunningLock;
  let user: TestUser;

  before(async () => {
    user = await ad.createUser();
    lock = await lockWithDirectory(ad);
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
    await ad.deleteUser(user);
    await ad.close();
  });

  it('10 guesses each as name, NAME and name@domain lock the account for every alias; an admin unlocks it', async () => {
    const aliases = [user.username, user.username.toUpperCase(), `${user.username}@example.test`];
    // Each alias signs in on its own (the directory knows all three) — and none is spent yet.
    for (const alias of aliases)
      for (let guess = 0; guess < 10; guess++)
        assert.equal((await postOnce(lock.issuer, alias, `wrong ${guess}`)).outcome, 'refused');
    for (const alias of aliases)
      assert.equal(
        (await postOnce(lock.issuer, alias, user.password)).outcome,
        'refused',
        `${alias}: 30 guesses across the aliases lock the one account`,
      );

    const { stdout } = await run(process.execPath, ['src/cli/lock.ts', 'users', 'unlock', user.username], {
      env: { ...process.env, DATABASE_URL: lock.database.url, LOCK_KEYS_DIR: lock.keysDir },
    });
    assert.match(stdout, /unlocked/);
    assert.equal(
      (await postOnce(lock.issuer, `${user.username}@example.test`, user.password)).outcome,
      'signed in',
    );
  });
});

describe('failed sign-ins take the same time whatever the reason (OpenLDAP, then local accounts)', () => {
  const ldap = openLdap();
  let lock: RunningLock;
  let wrong: TestUser;
  let locked: TestUser;

  before(async () => {
    [wrong, locked] = await Promise.all([ldap.createUser(), ldap.createUser()]);
    lock = await lockWithDirectory(ldap);
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
    await Promise.all([ldap.deleteUser(wrong), ldap.deleteUser(locked)]);
    await ldap.close();
  });

  it('the medians of unknown user, wrong password and locked out differ by less than half an argon2 verify', async (t) => {
    for (let guess = 0; guess < 30; guess++) await postOnce(lock.issuer, locked.username, `wrong ${guess}`);
    const kinds: Record<string, [string, string]> = {
      'unknown user': [`nobody-${randomBytes(4).toString('hex')}`, 'a wrong password'],
      'wrong password': [wrong.username, 'a wrong password'],
      'locked out': [locked.username, locked.password],
    };
    // Rounds of one post of each kind, back to back, and one argon2 verify here: a slow moment of a
    // shared machine slows a whole round, so each post is compared with its own round's mean.
    const offsets: Record<string, number[]> = Object.fromEntries(
      Object.keys(kinds).map((kind) => [kind, []]),
    );
    const argon2: number[] = [];
    // 30 + 3 × 22 posts from one address: below its threshold (100), so it plays no part.
    for (let round = 0; round < 22; round++) {
      const times: Record<string, number> = {};
      for (const [kind, [username, password]] of Object.entries(kinds)) {
        const post = await openLoginForm(lock.issuer);
        const result = await post(username, password);
        assert.equal(result.outcome, 'refused', kind);
        times[kind] = result.elapsedMs;
      }
      const started = performance.now();
      await verifyAgainstDummy('a wrong password');
      if (round === 0) continue; // the first round warms up
      argon2.push(performance.now() - started);
      const mean = Object.values(times).reduce((sum, time) => sum + time, 0) / Object.keys(times).length;
      for (const [kind, elapsed] of Object.entries(times)) offsets[kind]!.push(elapsed - mean);
    }
    const medians = Object.fromEntries(
      Object.entries(offsets).map(([kind, values]) => [kind, median(values)]),
    );
    const spread = Math.max(...Object.values(medians)) - Math.min(...Object.values(medians));
    const bound = 0.5 * median(argon2);
    t.diagnostic(
      `median offsets from their round (ms): ${JSON.stringify(medians)}; argon2 verify ${median(argon2).toFixed(1)} ms`,
    );
    assert.ok(
      spread < bound,
      `median offsets ${JSON.stringify(medians)} spread ${spread.toFixed(1)} ms; half an argon2 verify is ${bound.toFixed(1)} ms`,
    );
  });
});
