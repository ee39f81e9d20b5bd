import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

describe('rate limits shared by two Lock processes', () => {
  let first: RunningLock;
  let second: RunningLock;
  const env = { LOCK_RATE_LIMIT_TOKEN: '5', LOCK_RATE_LIMIT_WINDOW: '60' };

  before(async () => {
    first = await startLock({ config: tokenConfig, env });
    second = await startLock({ database: first.database, keysDir: first.keysDir, config: tokenConfig, env });
  });
  after(async () => {
    await second.close();
    await first.close();
    await first.database.drop();
  });

  const token = (lock: RunningLock) =>
    postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
      ['reporting-service', SECRET],
    );

  it('answers 429 with Retry-After once the client has used its window across both processes', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await token(first)).status, 200);
    await sleep(1_500); // each process shares its counts about once a second
    assert.equal((await token(second)).status, 200);
    assert.equal((await token(second)).status, 200);
    const refused = await token(second);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error, 'too_many_requests');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    await sleep(1_500);
    assert.equal((await token(first)).status, 429, 'the other process learned the total too');
    const health = await fetch(`${first.issuer}/healthz`);
    assert.equal(health.status, 200, 'other endpoints are not limited');
  });
});
