import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';

const MAX_AGE = 300;
const INTERVAL = 1800;

/**
 * A strict verifier: it refetches the JWKS only when its copy is older than max-age (on the same
 * fake clock as Lock), and never on an unknown kid — so it fails if a key ever signs before every
 * cache could have seen it.
 */
function cachingVerifier(jwksUrl: string, now: () => number) {
  let cache: { keys: JWK[]; fetchedAt: number } | undefined;
  return async (token: string) => {
    if (!cache || now() - cache.fetchedAt >= MAX_AGE * 1000) {
      const response = await fetch(jwksUrl);
      assert.equal(response.headers.get('cache-control'), `public, max-age=${MAX_AGE}`);
      cache = { keys: ((await response.json()) as { keys: JWK[] }).keys, fetchedAt: now() };
    }
    return jwtVerify(token, createLocalJWKSet({ keys: cache.keys }), {
      audience: 'https://db-api.example.com',
    });
  };
}

describe('automatic key rotation', () => {
  let lock: RunningLock;
  let clock = Date.now();
  before(async () => {
    lock = await startLock({
      config: tokenConfig,
      env: { LOCK_JWKS_MAX_AGE: String(MAX_AGE), LOCK_KEY_ROTATION_INTERVAL: String(INTERVAL) },
      now: () => new Date(clock),
    });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('rotates twice on schedule while a caching verifier keeps validating every token', async () => {
    const verify = cachingVerifier(`${lock.issuer}/jwks`, () => clock);
    const kidsUsed: string[] = [];
    for (let step = 0; step < 70; step++) {
      clock += 100_000; // less than max-age: the verifier's copy is often stale-but-cached
      await lock.lock.maintainKeys();
      await lock.lock.runtime.reload();
      const token = await postForm(
        `${lock.issuer}/token`,
        { grant_type: 'client_credentials', resource: 'https://db-api.example.com' },
        ['reporting-service', SECRET],
      );
      const accessToken = token.body.access_token as string;
      await verify(accessToken); // throws on a kid the verifier has not seen
      const kid = decodeProtectedHeader(accessToken).kid!;
      if (kidsUsed.at(-1) !== kid) kidsUsed.push(kid);
    }
    assert.ok(kidsUsed.length >= 3, `at least two rotations of the ES256 key: ${kidsUsed.join(' → ')}`);
    const published = ((await (await fetch(`${lock.issuer}/jwks`)).json()) as { keys: JWK[] }).keys.map(
      (key) => key.kid,
    );
    assert.ok(
      !published.includes(kidsUsed[0]),
      'the first key is gone once its tokens and caches have expired',
    );
    const { rows } = await lock.database.pool.query(
      "SELECT count(*)::int AS n FROM audit_events WHERE type = 'keys.rotated' AND actor = 'lock (automatic rotation)'",
    );
    assert.ok(rows[0].n >= 6, `each automatic rotation of each algorithm is audited (${rows[0].n})`);
  });
});
