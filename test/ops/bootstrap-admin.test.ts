import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { consoleSignIn as adminConsoleSignIn } from '../admin/admin-api.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';

/** The admin console's sign-in, step by step: what follows the password, then the token. */
async function consoleSignIn(issuer: string, password: string) {
  const { afterPassword, accessToken } = await adminConsoleSignIn(issuer, 'admin', password);
  return { afterPassword, access: decodeJwt(accessToken) };
}

describe('bootstrap admin account', () => {
  const started: RunningLock[] = [];
  const start = async (options: Parameters<typeof startLock>[0]) => {
    const lock = await startLock(options);
    started.push(lock);
    return lock;
  };
  after(async () => {
    for (const lock of started) await lock.close();
    for (const database of new Set(started.map((lock) => lock.database))) await database.drop();
  });

  it('is created once with a generated password shown once, and holds lock_admin', async () => {
    const messages: string[] = [];
    const lock = await start({ config: loginConfig, announce: (text) => messages.push(text) });
    assert.equal(messages.length, 1);
    const password = /password:\s+(\S+)/.exec(messages[0]!)?.[1];
    assert.ok(password && password.length >= 20);
    assert.ok(
      messages[0]!.includes(`Sign in to the admin console at ${lock.issuer}/admin\n`),
      'the console is named next to the password',
    );
    const { rows } = await lock.database.pool.query(
      "SELECT u.username, u.password_hash FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role_name = 'lock_admin'",
    );
    assert.equal(rows.length, 1);
    assert.equal(rows[0].username, 'admin');
    assert.ok(!rows[0].password_hash.includes(password), 'stored only as a hash');

    const again: string[] = [];
    await start({
      database: lock.database,
      keysDir: lock.keysDir,
      config: loginConfig,
      announce: (text) => again.push(text),
    });
    assert.deepEqual(again, [], 'a restart creates nothing and shows nothing');
  });

  it('takes LOCK_BOOTSTRAP_ADMIN_PASSWORD when set, and shows nothing', async () => {
    const messages: string[] = [];
    const lock = await start({
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ALICE_PASSWORD },
      announce: (text) => messages.push(text),
    });
    assert.deepEqual(messages, []);
    const { rows } = await lock.database.pool.query(
      "SELECT count(*)::int AS n FROM users WHERE username = 'admin'",
    );
    assert.equal(rows[0].n, 1);
  });

  it('must set up a second factor at its first sign-in unless LOCK_MFA_REQUIRED_ROLES says otherwise', async () => {
    const messages: string[] = [];
    const lock = await start({ announce: (text) => messages.push(text) });
    assert.match(messages[0]!, /two-step sign-in/, 'the first-start message says so');
    const password = /password:\s+(\S+)/.exec(messages[0]!)![1]!;
    const first = await consoleSignIn(lock.issuer, password);
    assert.equal(first.afterPassword.landed, undefined, 'the password alone does not reach the console');
    assert.match(first.afterPassword.html, /Set up two-step sign-in/);
    assert.deepEqual(first.access.amr, ['pwd', 'otp']);
    const second = await consoleSignIn(lock.issuer, password);
    assert.match(second.afterPassword.html, /Enter your code/, 'and every later sign-in asks for it');
    assert.deepEqual(second.access.amr, ['pwd', 'otp']);

    const optedOut = await start({
      env: { LOCK_BOOTSTRAP_ADMIN_PASSWORD: ALICE_PASSWORD, LOCK_MFA_REQUIRED_ROLES: 'none' },
    });
    const plain = await consoleSignIn(optedOut.issuer, ALICE_PASSWORD);
    assert.ok(plain.afterPassword.landed, 'LOCK_MFA_REQUIRED_ROLES=none: the password suffices');
    assert.deepEqual(plain.access.amr, ['pwd']);
  });
});
