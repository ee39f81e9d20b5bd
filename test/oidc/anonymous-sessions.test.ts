import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningLock, startLock } from '../helpers/lock.ts';
import { loginConfig } from '../helpers/login-fixtures.ts';

/**
 * The device page and the logout prompt store a session for their form's token on every anonymous
 * view (oidc-provider's xsrf). Anyone can load them, so their rows must neither pile up at the pace
 * of a flood nor outlive a device code: each view is counted per address, and a session nobody
 * signed in to is kept ten minutes, not the idle timeout.
 */
const LIMIT = 5;
const VIEWS = 8;

describe('anonymous page views that store a session', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({
      config: loginConfig,
      env: {
        LOCK_RATE_LIMIT_DEVICE: String(LIMIT),
        LOCK_RATE_LIMIT_AUTHORIZATION: String(LIMIT),
        LOCK_RATE_LIMIT_WINDOW: '3600',
      },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const sessions = async () =>
    (
      await lock.database.pool.query<{ seconds: number }>(
        `SELECT extract(epoch FROM expires_at - now())::int AS seconds FROM oidc_payloads WHERE model = 'Session'`,
      )
    ).rows.map((row) => row.seconds);

  for (const path of ['/device', '/session/end'])
    it(`${path}: past the per-address limit 429, and each stored session lasts ten minutes`, async () => {
      const before = (await sessions()).length;
      const answers = await Promise.all(
        Array.from({ length: VIEWS }, (_, i) =>
          fetch(`${lock.issuer}${i % 2 ? path.toUpperCase() : path}`, { redirect: 'manual' }).then(
            (response) => response.status,
          ),
        ),
      );
      assert.equal(answers.filter((status) => status === 429).length, VIEWS - LIMIT, answers.join(' '));
      const stored = await sessions();
      assert.equal(stored.length - before, LIMIT, 'one session per page view admitted');
      for (const seconds of stored) assert.ok(seconds > 0 && seconds <= 600, `expires in ${seconds} s`);
    });
});
