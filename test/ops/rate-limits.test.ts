import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

describe('rate limits shared by two Lock processes', () => {
  let first: RunningLock;
  let second: RunningLock;
  // A long window: a test that straddled a window boundary would see its counts start over.
  const env = { LOCK_RATE_LIMIT_TOKEN: '5', LOCK_RATE_LIMIT_WINDOW: '3600' };

  before(async () => {
    first = await startLock({ config: tokenConfig, env });
    second = await startLock({ database: first.database, keysDir: first.keysDir, config: tokenConfig, env });
  });
  after(async () => {
    await second.close();
    await first.close();
    await first.database.drop();
  });

  const sharedCount = async () =>
    (
      await first.database.pool.query<{ n: number }>(
        "SELECT coalesce(sum(count), 0)::int AS n FROM rate_limit_counters WHERE key LIKE 'token:client:%'",
      )
    ).rows[0]!.n;
  const token = (lock: RunningLock) =>
    postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
      ['reporting-service', SECRET],
    );

  it('answers 429 with Retry-After once the client has used its window across both processes', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await token(first)).status, 200);
    // Each process shares its counts about once a second: wait until the first one has.
    for (let attempt = 0; attempt < 100 && (await sharedCount()) < 3; attempt++) await sleep(100);
    assert.equal(await sharedCount(), 3);
    assert.equal((await token(second)).status, 200);
    assert.equal((await token(second)).status, 200);
    const refused = await token(second);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error, 'too_many_requests');
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
    let fromFirst = 0;
    for (let attempt = 0; attempt < 50 && fromFirst !== 429; attempt++) {
      fromFirst = (await token(first)).status;
      if (fromFirst !== 429) await sleep(100);
    }
    assert.equal(fromFirst, 429, 'the other process learned the total too');
    const health = await fetch(`${first.issuer}/healthz`);
    assert.equal(health.status, 200, 'other endpoints are not limited');
  });

  it('gives made-up client ids no counter of their own: they count per address only', async () => {
    for (const madeUp of ['no-such-client-1', 'no-such-client-2']) {
      const response = await postForm(
        `${second.issuer}/token`,
        { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
        [madeUp, SECRET],
      );
      // This address used its window above: the per-address rule answers.
      assert.equal(response.status, 429);
    }
    await sleep(2_500); // two syncs, once a second
    const { rows } = await first.database.pool.query(
      "SELECT key FROM rate_limit_counters WHERE key LIKE 'token:client:no-such-client%'",
    );
    assert.deepEqual(rows, []);
  });
});

describe('rate limits count every spelling of a path that the routers dispatch', () => {
  let lock: RunningLock;
  const env = { LOCK_RATE_LIMIT_TOKEN: '3', LOCK_RATE_LIMIT_LOGIN: '2', LOCK_RATE_LIMIT_WINDOW: '3600' };

  before(async () => {
    lock = await startLock({ config: `${tokenConfig}\n${loginClients}`, env });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('limits /TOKEN, /token/, //token and /%74oken once /token is used up', async () => {
    const token = (path: string) =>
      postForm(
        `${lock.issuer}${path}`,
        { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
        ['reporting-service', SECRET],
      );
    for (let i = 0; i < 3; i++) assert.equal((await token('/token')).status, 200);
    for (const variant of ['/token', '/TOKEN', '/token/', '/Token/', '//token', '/%74oken', '/token//'])
      assert.equal((await token(variant)).status, 429, `POST ${variant}`);
  });

  it('limits the login form under any case and with a trailing slash', async () => {
    const started = await fetch(
      `${lock.issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent('https://app.example.com/callback')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
      { redirect: 'manual' },
    );
    const interaction = started.headers.get('location')!;
    assert.match(interaction, /^\/interaction\/[\w-]+$/);
    const post = (path: string) =>
      fetch(`${lock.issuer}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=alice&password=guess',
      }).then((response) => response.status);
    for (let i = 0; i < 2; i++) assert.notEqual(await post(`${interaction}/login`), 429);
    for (const variant of ['/login', '/LOGIN', '/login/', '/Login/', '//login'])
      assert.equal(await post(`${interaction}${variant}`), 429, `POST ${interaction}${variant}`);
  });
});

const loginClients = `
  - clientId: web-app
    clientSecret: ${SECRET}
    redirectUris: [https://app.example.com/callback]
    grantTypes: [authorization_code]
connectors:
  - { id: local, type: local, name: Lock account }
`;

describe('a client named in the form body (a public client) is limited per client', () => {
  it('counts its requests from every address against the client', async () => {
    const lock = await startLock({
      config: `${tokenConfig}
  - clientId: cli-tool
    public: true
    redirectUris: [http://127.0.0.1:8765/callback]
`,
      env: { LOCK_RATE_LIMIT_TOKEN: '2', LOCK_RATE_LIMIT_WINDOW: '3600', LOCK_TRUST_PROXY: 'true' },
    });
    try {
      const token = (from: string) =>
        fetch(`${lock.issuer}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            refresh_token: 'not-one',
            client_id: 'cli-tool',
          }),
        }).then((response) => response.status);
      assert.equal(await token('198.51.100.1'), 400);
      assert.equal(await token('198.51.100.2'), 400);
      assert.equal(await token('198.51.100.3'), 429, 'the client has used its window, whatever the address');
    } finally {
      await lock.close();
      await lock.database.drop();
    }
  });
});

describe('made-up interactions from one address', () => {
  it('are answered 429 past LOCK_RATE_LIMIT_INTERACTION, under any spelling; another address still signs in', async () => {
    const lock = await startLock({
      config: tokenConfig,
      env: { LOCK_RATE_LIMIT_INTERACTION: '5', LOCK_RATE_LIMIT_WINDOW: '3600', LOCK_TRUST_PROXY: 'true' },
    });
    try {
      const get = (path: string, from: string) =>
        fetch(`${lock.issuer}${path}`, { headers: { 'x-forwarded-for': from }, redirect: 'manual' });
      const made = () => Math.random().toString(36).slice(2);
      const statuses: number[] = [];
      for (const path of [
        `/interaction/${made()}`,
        `/INTERACTION/${made()}/`,
        `//interaction/${made()}/login`,
      ])
        statuses.push((await get(path, '203.0.113.7')).status);
      for (let n = 0; n < 2; n++) statuses.push((await get(`/interaction/${made()}`, '203.0.113.7')).status);
      assert.ok(!statuses.includes(429), `within the limit: ${statuses}`);
      const refused = await get(`/Interaction/${made()}`, '203.0.113.7');
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.notEqual((await get(`/interaction/${made()}`, '198.51.100.20')).status, 429, 'another address');
    } finally {
      await lock.close();
      await lock.database.drop();
    }
  });
});

describe('the token budget covers PAR', () => {
  it('counts pushed authorization requests (POST /request) against the token budget', async (t) => {
    const lock = await startLock({
      config: tokenConfig,
      env: { LOCK_RATE_LIMIT_TOKEN: '3', LOCK_RATE_LIMIT_WINDOW: '3600' },
    });
    t.after(async () => {
      await lock.close();
      await lock.database.drop();
    });
    const push = (path: string) =>
      postForm(
        `${lock.issuer}${path}`,
        { client_id: 'pushing-client', response_type: 'code', redirect_uri: 'https://app.example.com/cb' },
        ['pushing-client', 'no secret needed to be counted'],
      );
    for (let i = 0; i < 3; i++) assert.notEqual((await push('/request')).status, 429, `push ${i + 1}`);
    assert.equal((await push('/request')).status, 429);
    assert.equal((await push('/REQUEST/')).status, 429);
  });
});
