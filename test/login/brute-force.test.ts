import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as oidc from 'openid-client';
import { countAuditedAttempts } from '../helpers/audit.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import {
  ALICE_PASSWORD,
  API,
  BOB_PASSWORD,
  CALLBACK,
  loginConfig,
  WEB_SECRET,
} from '../helpers/login-fixtures.ts';
import { readLoginForm, UserAgent } from '../helpers/user-agent.ts';

const run = promisify(execFile);

// Two Lock processes on one database, one shared fake clock: the lockout is theirs together.
describe('brute-force protection', () => {
  let first: RunningLock;
  let second: RunningLock;
  let clock = Date.now();
  const now = () => new Date(clock);

  before(async () => {
    first = await startLock({ config: loginConfig, now });
    second = await startLock({ database: first.database, keysDir: first.keysDir, config: loginConfig, now });
  });
  after(async () => {
    await second.close();
    await first.close();
    await first.database.drop();
  });

  /** A login page on `lock`, and a function that submits it and says where the browser ends up. */
  const loginPage = async (lock: RunningLock) => {
    const agent = new UserAgent(lock.issuer);
    const config = await oidc.discovery(new URL(lock.issuer), 'web-app', WEB_SECRET, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      resource: API,
    });
    const page = await agent.follow(url.toString());
    const form = readLoginForm(await page.response.text());
    const action = new URL(form.action, page.url!).toString();
    return async (username: string, password: string) => {
      const result = await agent.follow(action, { form: { csrf: form.csrf, username, password } });
      return result.left
        ? 'signed in'
        : /Incorrect username or password\./.test(await result.response.text())
          ? 'refused'
          : 'other';
    };
  };

  /** One post from a fresh sign-in (an interaction takes at most 10 password posts). */
  const attempt = async (lock: RunningLock, username: string, password: string) =>
    (await loginPage(lock))(username, password);

  it('locks an account after 30 failures across both processes, with the wrong-password message', async () => {
    for (let guess = 0; guess < 15; guess++) {
      assert.equal(await attempt(first, 'alice', `wrong guess ${guess}`), 'refused');
      assert.equal(await attempt(second, 'alice', `wrong guess ${guess}`), 'refused');
    }
    assert.equal(
      await (await loginPage(first))('alice', ALICE_PASSWORD),
      'refused',
      'locked: even the right password is refused',
    );
    assert.equal(
      await (await loginPage(second))('alice', ALICE_PASSWORD),
      'refused',
      'and on the other process too',
    );
    assert.equal(
      await (await loginPage(first))('bob', BOB_PASSWORD),
      'signed in',
      'other accounts from the same address still sign in',
    );

    assert.equal(
      await countAuditedAttempts(first.database.pool, { subject: 'alice', type: 'login.locked_out' }),
      2,
    );

    clock += 61_000; // the first lockout lasts one wait increment
    assert.equal(await (await loginPage(second))('alice', ALICE_PASSWORD), 'signed in');
  });

  it('an admin unlocks an account at once with `lock users unlock`', async () => {
    for (let guess = 0; guess < 30; guess++) await attempt(first, 'carol', `wrong guess ${guess}`);
    await attempt(first, 'alice', 'one more wrong');
    for (let guess = 0; guess < 30; guess++) await attempt(first, 'alice', `wrong again ${guess}`);
    assert.equal(await (await loginPage(first))('alice', ALICE_PASSWORD), 'refused');
    const { stdout } = await run(process.execPath, ['src/cli/lock.ts', 'users', 'unlock', 'alice'], {
      env: { ...process.env, DATABASE_URL: first.database.url, LOCK_KEYS_DIR: first.keysDir },
    });
    assert.match(stdout, /unlocked alice/);
    assert.equal(await (await loginPage(second))('alice', ALICE_PASSWORD), 'signed in');
  });
});
