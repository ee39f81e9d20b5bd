import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { loadEnv } from '../../src/config/env.ts';
import { openLdapConsoleConfig } from '../helpers/directories.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { CALLBACK, loginConfig, signIn, WEB_SECRET } from '../helpers/login-fixtures.ts';
import { UserAgent } from '../helpers/user-agent.ts';

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
    assert.equal(
      (await fetch(`${lock.issuer}/metrics`, { headers: { authorization: `Basic ${METRICS_TOKEN}` } }))
        .status,
      401,
    );
  });

  it('reads the token as every bearer token is read (src/verify/bearer.ts): the scheme in any case', async () => {
    const response = await fetch(`${lock.issuer}/metrics`, {
      headers: { authorization: `bearer  ${METRICS_TOKEN}` },
    });
    assert.equal(response.status, 200);
  });

  it('refuses at start a LOCK_METRICS_TOKEN no scraper could send as a bearer token', () => {
    assert.throws(
      () => loadEnv({ LOCK_METRICS_TOKEN: 'a token with spaces in it' }),
      /LOCK_METRICS_TOKEN: must be a bearer token/,
    );
    assert.equal(loadEnv({ LOCK_METRICS_TOKEN: METRICS_TOKEN }).LOCK_METRICS_TOKEN, METRICS_TOKEN);
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

  it('labels requests from a closed set: 600 made-up paths add no series', async () => {
    const before = await scrape();
    const made = (i: number) => `x${i}${Math.random().toString(36).slice(2, 10)}`;
    const paths = Array.from(
      { length: 600 },
      (_, i) =>
        [
          `/interaction/${made(i)}`,
          `/interaction/${made(i)}/${made(i)}`,
          `/interaction/${made(i)}/sso/${made(i)}/${made(i)}`,
          `/saml/${made(i)}/${made(i)}`,
          `/auth/${made(i)}/${made(i)}`,
          `/${made(i)}`,
        ][i % 6]!,
    );
    for (let i = 0; i < paths.length; i += 50)
      await Promise.all(
        paths.slice(i, i + 50).map((path) => fetch(`${lock.issuer}${path}`).then((r) => r.text())),
      );
    const after = await scrape();
    const series = (text: string) =>
      new Set(text.split('\n').filter((line) => line.startsWith('lock_http_request_duration_seconds_count')));
    const added = [...series(after)].filter((line) => !series(before).has(line.replace(/ \d+$/, '')));
    const labels = new Set([...series(after)].map((line) => /route="([^"]*)"/.exec(line)![1]));
    for (const label of labels) assert.doesNotMatch(label!, /x\d+[a-z0-9]{4,}/, `route label ${label}`);
    assert.ok(after.length < before.length + 20_000, `grew from ${before.length} to ${after.length} bytes`);
    assert.ok(added.length <= 12, `new series: ${added.join('\n')}`);
  });
});

describe('/metrics without LOCK_METRICS_TOKEN: this host only', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: tokenConfig, env: { LOCK_TRUST_PROXY: 'true' } });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('answers a scrape made on this host and refuses one relayed by a proxy', async () => {
    const local = await fetch(`${lock.issuer}/metrics`);
    assert.equal(local.status, 200);
    assert.match(await local.text(), /lock_process_resident_memory_bytes \d+/);
    const relays: Array<Record<string, string>> = [
      { 'x-forwarded-for': '203.0.113.9' },
      { 'x-forwarded-for': '127.0.0.1' },
      { forwarded: 'for=203.0.113.9' },
    ];
    for (const headers of relays) {
      const relayed = await fetch(`${lock.issuer}/metrics`, { headers });
      assert.equal(relayed.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(await relayed.text(), /lock_process/);
    }
  });
});

describe('/metrics: upstream calls', () => {
  let lock: RunningLock;

  before(async () => {
    const config = openLdapConsoleConfig();
    lock = await startLock({
      config: loginConfig.replace(
        '  - { id: local, type: local, name: Lock account }',
        // The directory first: it decides for the names it knows (alice is also a local account here).
        `  - { id: corp-ldap, type: ldap, name: Directory, config: ${JSON.stringify(config)} }\n  - { id: local, type: local, name: Lock account }`,
      ),
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('times directory calls by connector, operation and outcome', async () => {
    const web = await oidc.discovery(new URL(lock.issuer), 'web-app', WEB_SECRET, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const url = oidc.buildAuthorizationUrl(web, {
      redirect_uri: CALLBACK,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const { landed } = await signIn(new UserAgent(lock.issuer), url.toString(), 'alice', 'alice-password');
    assert.match(landed!, /code=/);
    const text = await (await fetch(`${lock.issuer}/metrics`)).text();
    assert.match(
      text,
      /lock_upstream_request_duration_seconds_count\{connector="corp-ldap",operation="login",outcome="ok"\} 1/,
    );
  });
});
