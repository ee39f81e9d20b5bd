import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

const run = promisify(execFile);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

const fetchJwks = async (issuer: string) => {
  const response = await fetch(`${issuer}/jwks`);
  return {
    cacheControl: response.headers.get('cache-control'),
    keys: ((await response.json()) as { keys: JWK[] }).keys,
  };
};
const issueToken = async (issuer: string, resource = 'https://db-api.example.com') => {
  const response = await postForm(`${issuer}/token`, { grant_type: 'client_credentials', resource }, [
    'reporting-service',
    SECRET,
  ]);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return response.body.access_token as string;
};
const waitFor = async (check: () => Promise<boolean>, what: string) => {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('signing keys', () => {
  let lock: RunningLock;
  let clock = Date.now();
  const now = () => new Date(clock);

  before(async () => {
    lock = await startLock({ config: tokenConfig, env: { LOCK_JWKS_MAX_AGE: '120' }, now });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('publishes one key per algorithm with public members only and a cache lifetime', async () => {
    const { keys, cacheControl } = await fetchJwks(lock.issuer);
    assert.equal(cacheControl, 'public, max-age=120');
    assert.deepEqual(keys.map((key) => key.alg).sort(), ['ES256', 'EdDSA', 'RS256']);
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS)
        assert.equal(key[member as keyof JWK], undefined, `${key.alg} key leaks ${member}`);
      assert.equal(key.use, 'sig');
      assert.equal(typeof key.kid, 'string');
    }
    const stored = await lock.database.pool.query<{ private_jwk: string }>(
      'SELECT private_jwk FROM signing_keys',
    );
    for (const row of stored.rows) assert.match(row.private_jwk, /^v1:/, 'private keys are sealed at rest');
  });

  it('keeps its keys across a restart: a token issued before still verifies', async () => {
    const before = await fetchJwks(lock.issuer);
    const token = await issueToken(lock.issuer);
    await lock.close();
    lock = await startLock({
      database: lock.database,
      keysDir: lock.keysDir,
      config: tokenConfig,
      env: { LOCK_JWKS_MAX_AGE: '120' },
      now,
    });
    const afterRestart = await fetchJwks(lock.issuer);
    assert.deepEqual(
      afterRestart.keys.map((key) => key.kid).sort(),
      before.keys.map((key) => key.kid).sort(),
    );
    // The restarted Lock listens on another port, so its issuer differs; the signature is what matters.
    await jwtVerify(token, createLocalJWKSet({ keys: afterRestart.keys }));
  });

  it('`lock keys export --format jwks` writes the served JWKS for file-based consumers', async () => {
    const env = { ...process.env, DATABASE_URL: lock.database.url, LOCK_KEYS_DIR: lock.keysDir };
    const exported = JSON.parse(
      (await run(process.execPath, ['src/cli/lock.ts', 'keys', 'export', '--format', 'jwks'], { env }))
        .stdout,
    ) as { keys: JWK[] };
    const served = await fetchJwks(lock.issuer);
    assert.deepEqual(exported.keys, served.keys);
    for (const key of exported.keys)
      for (const member of PRIVATE_MEMBERS) assert.equal(key[member as keyof JWK], undefined);
    await jwtVerify(await issueToken(lock.issuer), createLocalJWKSet(exported));

    const es256Only = JSON.parse(
      (await run(process.execPath, ['src/cli/lock.ts', 'keys', 'export', '--alg', 'ES256'], { env })).stdout,
    ) as { keys: JWK[] };
    assert.deepEqual(
      es256Only.keys.map((key) => key.alg),
      ['ES256'],
    );
    await assert.rejects(
      run(process.execPath, ['src/cli/lock.ts', 'keys', 'export', '--format', 'pem'], { env }),
      (error: { code: number; stderr: string }) =>
        error.code === 1 && /--format must be jwks/.test(error.stderr),
    );
  });

  it('`lock keys rotate` publishes the next key before it signs, then retires the old one', async () => {
    const oldToken = await issueToken(lock.issuer);
    const oldKid = decodeProtectedHeader(oldToken).kid;
    const { stdout } = await run(process.execPath, ['src/cli/lock.ts', 'keys', 'rotate', '--alg', 'ES256'], {
      env: {
        ...process.env,
        DATABASE_URL: lock.database.url,
        LOCK_KEYS_DIR: lock.keysDir,
        LOCK_JWKS_MAX_AGE: '120',
      },
    });
    const nextKid = /added ES256 key (\S+):/.exec(stdout)?.[1];
    assert.ok(nextKid, stdout);
    await waitFor(
      async () => (await fetchJwks(lock.issuer)).keys.some((key) => key.kid === nextKid),
      'the next key in the JWKS',
    );
    assert.equal(
      decodeProtectedHeader(await issueToken(lock.issuer)).kid,
      oldKid,
      'the next key does not sign yet',
    );

    clock = Date.now() + 121_000; // one JWKS cache lifetime after the rotation
    await lock.lock.runtime.reload();
    const newToken = await issueToken(lock.issuer);
    assert.equal(
      decodeProtectedHeader(newToken).kid,
      nextKid,
      'the next key signs once every cache has seen it',
    );
    const jwks = createRemoteJWKSet(new URL(`${lock.issuer}/jwks`));
    await jwtVerify(oldToken, jwks); // the retired key stays published while its tokens live
    await jwtVerify(newToken, jwks);

    clock += (3600 + 120 + 1) * 1000; // past the longest token lifetime (ID tokens, 1 h) plus the cache lifetime
    await lock.lock.runtime.reload();
    const kids = (await fetchJwks(lock.issuer)).keys.map((key) => key.kid);
    assert.ok(!kids.includes(oldKid!), 'the retired key is unpublished once its tokens have expired');
    assert.ok(kids.includes(nextKid));
  });

  it('refuses to start with another key-encryption key, naming the cause', async () => {
    const otherKek = randomBytes(32).toString('base64');
    await assert.rejects(
      startLock({ database: lock.database, keysDir: lock.keysDir, env: { LOCK_KEK: otherKek } }),
      /cannot decrypt signing keys with the key in LOCK_KEK/,
    );
  });
});
