import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CLIENT_AUTH_POLICY } from '../../src/security/client-auth-guard.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

const { clientAddressThreshold, addressThreshold } = DEFAULT_CLIENT_AUTH_POLICY;
const RESOURCE = 'https://db-api.example.com';

describe('failed client authentication is throttled per (client, address) and per address', () => {
  let lock: RunningLock;
  let second: RunningLock;
  before(async () => {
    // Behind a proxy, so that each test can speak from an address of its own (X-Forwarded-For).
    const env = { LOCK_TRUST_PROXY: 'true' };
    lock = await startLock({ config: tokenConfig, env });
    second = await startLock({ database: lock.database, keysDir: lock.keysDir, config: tokenConfig, env });
  });
  after(async () => {
    await second.close();
    await lock.close();
    await lock.database.drop();
  });

  const call = async (
    path: string,
    from: string,
    client: [string, string],
    form: Record<string, string>,
    target = lock,
    asBasic = true,
  ) => {
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': from,
    };
    const body = new URLSearchParams(form);
    if (asBasic)
      headers.authorization = `Basic ${Buffer.from(`${client[0]}:${client[1]}`).toString('base64')}`;
    else {
      body.set('client_id', client[0]);
      body.set('client_secret', client[1]);
    }
    const response = await fetch(`${target.issuer}${path}`, { method: 'POST', headers, body });
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: await response.text(),
    };
  };
  const token = (from: string, secret: string, target = lock, asBasic = true) =>
    call(
      '/token',
      from,
      ['reporting-service', secret],
      { grant_type: 'client_credentials', resource: RESOURCE },
      target,
      asBasic,
    );

  it('answers 429 with Retry-After to a flood of wrong secrets, while the right secret from elsewhere still works', async () => {
    const attacker = '203.0.113.66';
    const statuses: number[] = [];
    // 200 wrong secrets, 20 at a time, as fast as the server answers.
    for (let round = 0; round < 10; round++)
      statuses.push(
        ...(
          await Promise.all(
            Array.from({ length: 20 }, (_, i) => token(attacker, `wrong-${round}-${i}`, lock, i % 2 === 0)),
          )
        ).map((response) => response.status),
      );
    const unauthorized = statuses.filter((status) => status === 401).length;
    const throttled = statuses.filter((status) => status === 429).length;
    assert.equal(unauthorized + throttled, 200, `statuses: ${statuses.join(' ')}`);
    assert.ok(unauthorized <= clientAddressThreshold + 20, `${unauthorized} wrong secrets were tried`);
    const refused = await token(attacker, 'one-more-wrong');
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.retryAfter) >= 1, `Retry-After: ${refused.retryAfter}`);
    assert.match(refused.body, /too many failed client authentications/);
    // The locked (client, address) learns nothing, not even from the right secret.
    assert.equal((await token(attacker, SECRET)).status, 429);
    // The honest service, from its own address, is not locked out by the attacker's failures.
    assert.equal((await token('198.51.100.7', SECRET)).status, 200);
    assert.equal((await token('198.51.100.7', SECRET, second)).status, 200);
    // Another process refuses the attacker's address too, after at most one failure of its own.
    const fromSecond = [
      await token(attacker, 'wrong-second-1', second),
      await token(attacker, 'wrong-second-2', second),
    ];
    assert.equal(fromSecond[1]!.status, 429, `second process: ${fromSecond.map((r) => r.status).join(' ')}`);
  });

  it('counts failures at introspection and revocation as well', async () => {
    const attacker = '203.0.113.67';
    const statuses: number[] = [];
    for (let i = 0; i < clientAddressThreshold + 2; i++) {
      const path = i % 2 === 0 ? '/token/introspection' : '/token/revocation';
      statuses.push((await call(path, attacker, ['reporting-service', `wrong-${i}`], { token: 'x' })).status);
    }
    assert.deepEqual(statuses.slice(0, clientAddressThreshold), Array(clientAddressThreshold).fill(401));
    assert.equal(statuses.at(-1), 429, statuses.join(' '));
    assert.equal(
      (await call('/token/introspection', attacker, ['reporting-service', SECRET], { token: 'x' })).status,
      429,
    );
    assert.equal(
      (await call('/token/introspection', '198.51.100.8', ['reporting-service', SECRET], { token: 'x' }))
        .status,
      200,
    );
  });

  it('counts failures at the pushed authorization request endpoint (PAR) as well', async () => {
    const attacker = '203.0.113.69';
    const statuses: number[] = [];
    for (let i = 0; i < clientAddressThreshold + 2; i++)
      statuses.push(
        (
          await call('/request', attacker, ['reporting-service', `wrong-${i}`], {
            client_id: 'reporting-service',
          })
        ).status,
      );
    assert.deepEqual(statuses.slice(0, clientAddressThreshold), Array(clientAddressThreshold).fill(401));
    assert.equal(statuses.at(-1), 429, statuses.join(' '));
  });

  it('locks an address that tries many client ids', async () => {
    const sprayer = '203.0.113.68';
    const statuses: number[] = [];
    for (let i = 0; i < addressThreshold + 2; i++)
      statuses.push(
        (
          await call('/token', sprayer, [`made-up-client-${i}`, 'guess'], {
            grant_type: 'client_credentials',
          })
        ).status,
      );
    assert.equal(statuses.filter((status) => status === 401).length, addressThreshold, statuses.join(' '));
    assert.equal(statuses.at(-1), 429);
    assert.equal((await token(sprayer, SECRET)).status, 429, 'the address is locked for every client');
    const { rows } = await lock.database.pool.query<{ key: string }>(
      "SELECT key FROM client_auth_failures WHERE key LIKE 'client:made-up%'",
    );
    assert.deepEqual(rows, [], 'made-up client ids get no counter of their own');
  });

  it('forgets a client’s failures from an address when it authenticates there', async () => {
    const service = '198.51.100.9';
    for (let i = 0; i < clientAddressThreshold - 2; i++)
      assert.equal((await token(service, `rotated-${i}`)).status, 401);
    assert.equal((await token(service, SECRET)).status, 200);
    for (let i = 0; i < clientAddressThreshold - 2; i++)
      assert.equal((await token(service, `again-${i}`)).status, 401);
    assert.equal((await token(service, SECRET)).status, 200);
  });
});
