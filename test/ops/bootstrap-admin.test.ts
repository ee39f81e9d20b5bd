import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { ALICE_PASSWORD, loginConfig } from '../helpers/login-fixtures.ts';

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
});
