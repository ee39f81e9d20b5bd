import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadEnv } from '../../src/config/env.ts';
import type { ConfigError } from '../../src/config/schema-errors.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { type RunningLock, startLock } from '../helpers/lock.ts';

const run = promisify(execFile);

/** HTTPS with our own CA: node's fetch cannot take one, so a small https.request wrapper. */
function httpsRequest(
  url: string,
  ca: Buffer,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', ca, headers: init.headers }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

describe('transport', () => {
  let lock: RunningLock;
  let cert: Buffer;

  before(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lock-tls-'));
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ]);
    cert = await readFile(join(dir, 'cert.pem'));
    lock = await startLock({
      config: tokenConfig,
      env: { LOCK_TLS_CERT: join(dir, 'cert.pem'), LOCK_TLS_KEY: join(dir, 'key.pem') },
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('serves HTTPS itself with a https issuer, HSTS and secure cookies', async () => {
    assert.match(lock.issuer, /^https:\/\/127\.0\.0\.1:\d+$/);
    const discovery = await httpsRequest(`${lock.issuer}/.well-known/openid-configuration`, cert);
    assert.equal(discovery.status, 200);
    assert.equal(JSON.parse(discovery.body).token_endpoint, `${lock.issuer}/token`);
    assert.match(String(discovery.headers['strict-transport-security']), /max-age=\d+/);

    const token = await httpsRequest(`${lock.issuer}/token`, cert, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`reporting-service:${SECRET}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&resource=https%3A%2F%2Fdb-api.example.com',
    });
    assert.equal(token.status, 200, token.body);

    const auth = await httpsRequest(
      `${lock.issuer}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fx.example.com%2F`,
      cert,
    );
    assert.equal(auth.status, 400);
    const plain = await fetch(`${lock.issuer.replace('https:', 'http:')}/healthz`).catch(
      (error: Error) => error,
    );
    assert.ok(plain instanceof Error, 'no plain HTTP on the TLS port');
  });

  it('refuses an http:// issuer outside localhost unless development is declared', () => {
    assert.throws(
      () => loadEnv({ LOCK_ISSUER: 'http://login.example.com' }),
      (error: ConfigError) =>
        error.problems.some((problem) =>
          problem.startsWith('LOCK_ISSUER: must be https:// outside localhost'),
        ),
    );
    assert.equal(
      loadEnv({ LOCK_ISSUER: 'http://login.example.com', LOCK_ALLOW_HTTP_ISSUER: 'true' }).LOCK_ISSUER,
      'http://login.example.com',
    );
    assert.throws(() => loadEnv({ LOCK_TLS_CERT: '/x.pem' }), /LOCK_TLS_CERT and LOCK_TLS_KEY go together/);
  });
});

describe('behind a reverse proxy (LOCK_TRUST_PROXY)', () => {
  it('counts the address the proxy saw: prepending to X-Forwarded-For does not escape a per-address limit', async () => {
    const lock = await startLock({
      config: tokenConfig,
      env: { LOCK_TRUST_PROXY: 'true', LOCK_RATE_LIMIT_AUTHORIZATION: '2', LOCK_RATE_LIMIT_WINDOW: '3600' },
    });
    try {
      const authorize = (forwardedFor: string) =>
        fetch(`${lock.issuer}/auth?client_id=unknown`, {
          headers: { 'x-forwarded-for': forwardedFor },
          redirect: 'manual',
        }).then((response) => response.status);
      const statuses = [];
      for (const chosen of ['198.51.100.1', '198.51.100.2', '198.51.100.3'])
        statuses.push(await authorize(`${chosen}, 203.0.113.7`));
      assert.notEqual(statuses[0], 429);
      assert.equal(statuses[2], 429, `statuses: ${statuses.join(', ')}`);
      assert.notEqual(await authorize('203.0.113.8'), 429, 'another client is counted on its own');
    } finally {
      await lock.close();
      await lock.database.drop();
    }
  });
});
