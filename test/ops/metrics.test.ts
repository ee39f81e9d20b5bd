import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

const METRICS_TOKEN = 'metrics-scraper-token-0123456789';

describe('/metrics', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: tokenConfig, env: { LOCK_METRICS_TOKEN: METRICS_TOKEN } });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  const scrape = async () => {
    const response = await fetch(`${lock.issuer}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/plain/);
    return response.text();
  };

  it('answers 401 without the scraper token', async () => {
    assert.equal((await fetch(`${lock.issuer}/metrics`)).status, 401);
    assert.equal(
      (await fetch(`${lock.issuer}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status,
      401,
    );
  });

  it('counts tokens by grant and resource, times requests by route, and reports the pool and key ages', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await postForm(
        `${lock.issuer}/token`,
        { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
        ['reporting-service', SECRET],
      );
      assert.equal(response.status, 200);
    }
    await postForm(`${lock.issuer}/token`, { grant_type: 'client_credentials' }, [
      'reporting-service',
      'wrong-secret-wrong-secret',
    ]);
    const text = await scrape();
    assert.match(
      text,
      /lock_tokens_issued_total\{grant_type="client_credentials",resource="https:\/\/db-api.example.com"\} 3/,
    );
    assert.match(
      text,
      /lock_http_request_duration_seconds_count\{route="\/token",method="POST",status="200"\} 3/,
    );
    assert.match(
      text,
      /lock_http_request_duration_seconds_count\{route="\/token",method="POST",status="401"\} 1/,
    );
    assert.match(text, /lock_db_pool_connections\{state="total"\} \d+/);
    assert.match(text, /lock_signing_key_age_seconds\{alg="ES256"\} \d/);
    assert.match(text, /lock_process_resident_memory_bytes \d+/);
    assert.doesNotMatch(text, new RegExp(SECRET), 'no secret in any label');
  });
});
