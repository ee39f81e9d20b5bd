import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { exportJWK } from 'jose';
import { MAX_ACTORS } from '../../src/verify/claims.ts';
import {
  type AccessTokenClaims,
  createVerifier,
  TokenVerificationError,
  type VerifierOptions,
} from '../../src/verify/index.ts';
import { SECRET, tokenConfig } from '../helpers/fixtures.ts';
import { postForm, type RunningLock, startLock } from '../helpers/lock.ts';
import { type KeyServer, refusedUrl, startKeyServer, startSilentServer } from './key-server.ts';
import {
  AUDIENCE,
  accessTokenClaims,
  generateSigningKey,
  type SigningKey,
  signAccessToken,
  signWithPublicKeyAsSecret,
  unsignedToken,
  withPayload,
} from './signing.ts';

/** Asserts that `promise` rejects with a TokenVerificationError of this code and reason. */
async function refused(promise: Promise<unknown>, code: string, reason: string, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenVerificationError, `expected a TokenVerificationError, got ${error}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

/** The claims of the reporting service's token for AUDIENCE, as the verifier types them. */
function assertReportingServiceClaims(claims: AccessTokenClaims, issuer: string) {
  assert.equal(claims.iss, issuer);
  assert.equal(claims.sub, 'reporting-service');
  assert.equal(claims.clientId, 'reporting-service');
  assert.deepEqual(claims.aud, [AUDIENCE]);
  assert.deepEqual(claims.scope, ['read', 'write']);
  assert.deepEqual(claims.roles, ['app_readwrite', 'app_readonly']);
  assert.equal(claims.role, 'app_readwrite');
}

describe('lock/verify against a running Lock', () => {
  let lock: RunningLock;
  before(async () => {
    lock = await startLock({ config: tokenConfig });
  });
  after(async () => {
    await lock.close();
    await lock.database.drop();
  });

  it('verifies a client-credentials token Lock issued and returns typed claims', async () => {
    const response = await postForm(
      `${lock.issuer}/token`,
      { grant_type: 'client_credentials', resource: AUDIENCE, scope: 'read write' },
      ['reporting-service', SECRET],
    );
    assert.equal(response.status, 200);
    const token = response.body.access_token as string;
    const verifier = createVerifier({ issuer: lock.issuer, audience: AUDIENCE, roleClaim: 'role' });

    const claims = await verifier.verifyAuthorizationHeader(`Bearer ${token}`);
    assertReportingServiceClaims(claims, lock.issuer);
    assert.equal(claims.exp - claims.iat, 300);
    assert.equal(typeof claims.jti, 'string');
    assert.equal(claims.payload.client_id, 'reporting-service');

    const otherApi = createVerifier({ issuer: lock.issuer, audience: 'https://rs-api.example.com' });
    await refused(otherApi.verify(token), 'invalid_token', 'wrong_audience');
  });
});

describe('lock/verify against a JWKS served by the test', () => {
  let rs: SigningKey;
  let es: SigningKey;
  let ed: SigningKey;
  /** Not published anywhere. */
  let attacker: SigningKey;

  before(async () => {
    [rs, es, ed, attacker] = await Promise.all([
      generateSigningKey('RS256'),
      generateSigningKey('ES256'),
      generateSigningKey('EdDSA'),
      generateSigningKey('RS256'),
    ]);
  });

  /** A key server publishing rs, es and ed, closed when the test ends. */
  async function keyServer(t: TestContext, cacheControl = 'public, max-age=300'): Promise<KeyServer> {
    const server = await startKeyServer([rs.jwk, es.jwk, ed.jwk], cacheControl);
    t.after(() => server.close());
    return server;
  }

  const verifierFor = (server: KeyServer, options: Partial<VerifierOptions> = {}) =>
    createVerifier({ issuer: server.issuer, audience: AUDIENCE, roleClaim: 'role', ...options });

  describe('valid tokens', () => {
    it('accepts RS256, ES256 and EdDSA access tokens and returns typed claims', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      for (const key of [rs, es, ed]) {
        const claims = await verifier.verify(await signAccessToken(key, server.issuer));
        assertReportingServiceClaims(claims, server.issuer);
        assert.equal(claims.idp, undefined);
        assert.equal(claims.act, undefined);
      }
    });

    it('returns idp, act and every audience of a user token acting through another party', async (t) => {
      const server = await keyServer(t);
      const claims = await verifierFor(server).verify(
        await signAccessToken(es, server.issuer, {
          claims: accessTokenClaims(server.issuer, {
            sub: 'u-123',
            aud: ['https://other-api.example.com', AUDIENCE],
            idp: 'corp-ad',
            act: { sub: 'gateway-service' },
            scope: 'read',
            roles: [],
            role: 'web_anon',
          }),
        }),
      );
      assert.equal(claims.sub, 'u-123');
      assert.deepEqual(claims.aud, ['https://other-api.example.com', AUDIENCE]);
      assert.equal(claims.idp, 'corp-ad');
      assert.deepEqual(claims.act, { sub: 'gateway-service' });
      assert.deepEqual(claims.roles, []);
      assert.equal(claims.role, 'web_anon');
    });

    it('leaves role out when the verifier names no role claim', async (t) => {
      const server = await keyServer(t);
      const claims = await verifierFor(server, { roleClaim: undefined }).verify(
        await signAccessToken(es, server.issuer),
      );
      assert.equal(claims.role, undefined);
      assert.equal(claims.payload.role, 'app_readwrite');
    });

    it('accepts typ application/at+jwt in any case', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      for (const typ of ['application/at+jwt', 'AT+JWT', 'Application/AT+JWT']) {
        const claims = await verifier.verify(await signAccessToken(es, server.issuer, { header: { typ } }));
        assert.equal(claims.sub, 'reporting-service', typ);
      }
    });

    it('reads the token from an Authorization header and refuses a missing or malformed one', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      const token = await signAccessToken(es, server.issuer);
      assert.equal((await verifier.verifyAuthorizationHeader(`bearer ${token}`)).sub, 'reporting-service');

      for (const header of [undefined, null, '', '   ']) {
        await refused(verifier.verifyAuthorizationHeader(header), 'invalid_request', 'missing_token');
      }
      await refused(
        verifier.verifyAuthorizationHeader('Basic cmVwb3J0aW5nOnNlY3JldA=='),
        'invalid_request',
        'missing_token',
        /Basic scheme/,
      );
      for (const header of ['Bearer', 'Bearer a b', `Bearer ${token},${token}`]) {
        await refused(verifier.verifyAuthorizationHeader(header), 'invalid_request', 'malformed_header');
      }
      await refused(verifier.verifyAuthorizationHeader('Bearer not-a-jwt'), 'invalid_token', 'malformed');
    });
  });

  describe('RFC 8725 attacks', () => {
    it('refuses alg none', async (t) => {
      const server = await keyServer(t);
      await refused(
        verifierFor(server).verify(unsignedToken(server.issuer)),
        'invalid_token',
        'alg_not_allowed',
        /none/,
      );
    });

    it('refuses HS256 signed with the public key as HMAC secret', async (t) => {
      const server = await keyServer(t);
      await refused(
        verifierFor(server).verify(await signWithPublicKeyAsSecret(rs, server.issuer)),
        'invalid_token',
        'alg_not_allowed',
        /HS256.*public key/,
      );
    });

    it('refuses an allowed-by-Lock algorithm the verifier was not configured for', async (t) => {
      const server = await keyServer(t);
      await refused(
        verifierFor(server, { algorithms: ['ES256'] }).verify(await signAccessToken(rs, server.issuer)),
        'invalid_token',
        'alg_not_allowed',
        /RS256.*ES256/,
      );
    });

    it('refuses an unknown kid after refetching the JWKS once', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      await verifier.verify(await signAccessToken(rs, server.issuer));
      assert.equal(server.requests.jwks, 1);
      await refused(
        verifier.verify(await signAccessToken(attacker, server.issuer)),
        'invalid_token',
        'unknown_kid',
        new RegExp(attacker.kid),
      );
      assert.equal(server.requests.jwks, 2, 'the unknown kid made the verifier look for a rotated key');
    });

    it('refuses a key embedded in the jwk header', async (t) => {
      const server = await keyServer(t);
      const token = await signAccessToken(attacker, server.issuer, {
        header: { kid: undefined, jwk: attacker.jwk },
      });
      await refused(verifierFor(server).verify(token), 'invalid_token', 'untrusted_key_header', /"jwk"/);
      assert.equal(server.requests.jwks, 0, 'refused before any key was fetched');
    });

    for (const [name, value] of [
      ['jku', 'https://attacker.example.com/jwks'],
      ['x5u', 'https://attacker.example.com/cert.pem'],
      ['x5c', ['MIIBszCCAVmgAwIBAgIUQ==']],
    ] as const) {
      it(`refuses a ${name} header`, async (t) => {
        const server = await keyServer(t);
        const token = await signAccessToken(attacker, server.issuer, { header: { [name]: value } });
        await refused(
          verifierFor(server).verify(token),
          'invalid_token',
          'untrusted_key_header',
          new RegExp(name),
        );
      });
    }

    it('refuses an ID token presented as an access token', async (t) => {
      const server = await keyServer(t);
      const idToken = await signAccessToken(rs, server.issuer, {
        header: { typ: 'JWT' },
        claims: {
          iss: server.issuer,
          sub: 'u-123',
          aud: 'reporting-app',
          azp: 'reporting-app',
          nonce: 'n-0S6_WzA2Mj',
          iat: Math.floor(Date.now() / 1000),
          exp: Math.floor(Date.now() / 1000) + 3600,
        },
      });
      await refused(verifierFor(server).verify(idToken), 'invalid_token', 'wrong_typ', /"JWT".*at\+jwt/);
      const untyped = await signAccessToken(rs, server.issuer, { header: { typ: undefined } });
      await refused(verifierFor(server).verify(untyped), 'invalid_token', 'wrong_typ');
    });

    it('refuses a token for another audience', async (t) => {
      const server = await keyServer(t);
      const token = await signAccessToken(es, server.issuer, {
        claims: accessTokenClaims(server.issuer, { aud: 'https://rs-api.example.com' }),
      });
      await refused(verifierFor(server).verify(token), 'invalid_token', 'wrong_audience', /rs-api/);
    });

    it(`refuses an act chain deeper than ${MAX_ACTORS} actors, or one with an actor without sub`, async (t) => {
      const server = await keyServer(t);
      const chain = (depth: number): Record<string, unknown> | undefined =>
        depth === 0 ? undefined : { sub: `gateway-${depth}`, ...(depth > 1 && { act: chain(depth - 1) }) };
      const withAct = (act: unknown) =>
        signAccessToken(es, server.issuer, { claims: accessTokenClaims(server.issuer, { act }) });
      const deepest = await verifierFor(server).verify(await withAct(chain(MAX_ACTORS)));
      assert.deepEqual(deepest.act, chain(MAX_ACTORS));
      await refused(
        verifierFor(server).verify(await withAct(chain(MAX_ACTORS + 1))),
        'invalid_token',
        'invalid_claim',
        /more than 4 actors/,
      );
      await refused(
        verifierFor(server).verify(await withAct({ sub: 'gateway', act: { client: 'x' } })),
        'invalid_token',
        'invalid_claim',
        /each actor/,
      );
    });

    it('refuses a key-bound (cnf) token presented as a Bearer token', async (t) => {
      const server = await keyServer(t);
      const token = await signAccessToken(es, server.issuer, {
        claims: accessTokenClaims(server.issuer, {
          cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' },
        }),
      });
      await refused(verifierFor(server).verify(token), 'invalid_token', 'sender_constrained', /cnf/);
    });

    it('refuses a token from another issuer', async (t) => {
      const server = await keyServer(t);
      const token = await signAccessToken(es, 'https://evil.example.com');
      await refused(verifierFor(server).verify(token), 'invalid_token', 'wrong_issuer', /evil\.example\.com/);
    });

    it('refuses an expired token, beyond the clock tolerance', async (t) => {
      const server = await keyServer(t);
      const now = Math.floor(Date.now() / 1000);
      const token = await signAccessToken(es, server.issuer, {
        claims: accessTokenClaims(server.issuer, { iat: now - 400, exp: now - 60 }),
      });
      await refused(verifierFor(server).verify(token), 'invalid_token', 'expired', /expired at/);
      const withinLeeway = await signAccessToken(es, server.issuer, {
        claims: accessTokenClaims(server.issuer, { iat: now - 400, exp: now - 1 }),
      });
      assert.equal(
        (await verifierFor(server, { clockTolerance: 60 }).verify(withinLeeway)).sub,
        'reporting-service',
      );
    });

    it('refuses a token that is not yet valid (nbf or iat in the future)', async (t) => {
      const server = await keyServer(t);
      const now = Math.floor(Date.now() / 1000);
      const notBefore = await signAccessToken(es, server.issuer, {
        claims: accessTokenClaims(server.issuer, { nbf: now + 600 }),
      });
      await refused(verifierFor(server).verify(notBefore), 'invalid_token', 'not_yet_valid', /nbf/);
      const issuedLater = await signAccessToken(es, server.issuer, {
        claims: accessTokenClaims(server.issuer, { iat: now + 600, exp: now + 900 }),
      });
      await refused(verifierFor(server).verify(issuedLater), 'invalid_token', 'not_yet_valid', /iat/);
    });

    it('refuses a token whose payload was changed after signing', async (t) => {
      const server = await keyServer(t);
      for (const key of [rs, es, ed]) {
        const token = await signAccessToken(key, server.issuer);
        const escalated = withPayload(
          token,
          accessTokenClaims(server.issuer, { roles: ['app_admin'], role: 'app_admin' }),
        );
        await refused(verifierFor(server).verify(escalated), 'invalid_token', 'bad_signature', /signature/);
      }
    });

    it('refuses crit headers it does not understand', async (t) => {
      const server = await keyServer(t);
      const token = await signAccessToken(es, server.issuer, {
        header: { crit: ['urn:example:binding'], 'urn:example:binding': 'tls' },
        crit: { 'urn:example:binding': true },
      });
      await refused(
        verifierFor(server).verify(token),
        'invalid_token',
        'unsupported_crit',
        /urn:example:binding/,
      );
    });

    it('refuses to be configured with none or HMAC algorithms', () => {
      for (const alg of ['none', 'HS256']) {
        assert.throws(
          () => createVerifier({ issuer: 'https://lock.example.com', audience: AUDIENCE, algorithms: [alg] }),
          new RegExp(`algorithms "${alg}" is not an asymmetric`),
        );
      }
    });
  });

  describe('JWKS cache', () => {
    it('honours Cache-Control max-age: no refetch while fresh', async (t) => {
      const server = await keyServer(t, 'public, max-age=300');
      const verifier = verifierFor(server);
      for (const key of [rs, es, ed, rs, es])
        await verifier.verify(await signAccessToken(key, server.issuer));
      assert.deepEqual(server.requests, { discovery: 1, jwks: 1 });
    });

    it('refetches on every verification when the JWKS says no-store or no-cache', async (t) => {
      for (const cacheControl of ['no-store', 'no-cache', 'max-age=0']) {
        const server = await keyServer(t, cacheControl);
        const verifier = verifierFor(server);
        for (let i = 0; i < 3; i++) await verifier.verify(await signAccessToken(es, server.issuer));
        assert.deepEqual(server.requests, { discovery: 1, jwks: 3 }, cacheControl);
      }
    });

    it('shares one in-flight fetch between concurrent verifications', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      const tokens = await Promise.all(
        [rs, es, ed, rs, es, ed].map((key) => signAccessToken(key, server.issuer)),
      );
      const claims = await Promise.all(tokens.map((token) => verifier.verify(token)));
      assert.equal(claims.length, 6);
      assert.deepEqual(server.requests, { discovery: 1, jwks: 1 });
    });

    it('picks up a rotated key: a new kid at the server is refetched and verifies', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      await verifier.verify(await signAccessToken(es, server.issuer));
      const next = await generateSigningKey('ES256');
      server.keys = [...server.keys, next.jwk];
      const claims = await verifier.verify(await signAccessToken(next, server.issuer));
      assert.equal(claims.sub, 'reporting-service');
      assert.equal(server.requests.jwks, 2);
    });

    it('refetches for unknown kids at most once per cooldown', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server, { unknownKidCooldown: 60_000 });
      await verifier.verify(await signAccessToken(es, server.issuer));
      const forged = await Promise.all(
        [1, 2, 3].map(async () => signAccessToken(await generateSigningKey('ES256'), server.issuer)),
      );
      for (const token of forged) await refused(verifier.verify(token), 'invalid_token', 'unknown_kid');
      await Promise.all(
        forged.map((token) => refused(verifier.verify(token), 'invalid_token', 'unknown_kid')),
      );
      assert.equal(server.requests.jwks, 2, 'one initial fetch and one refetch for all unknown kids');
      assert.equal(
        (await verifier.verify(await signAccessToken(ed, server.issuer))).sub,
        'reporting-service',
      );
    });

    it('does not refetch for an unknown kid right after fetching the JWKS for it', async (t) => {
      const server = await keyServer(t);
      await refused(
        verifierFor(server).verify(await signAccessToken(attacker, server.issuer)),
        'invalid_token',
        'unknown_kid',
      );
      assert.equal(server.requests.jwks, 1);
    });

    it('uses the configured jwksUri without discovery', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server, { jwksUri: server.jwksUri });
      assert.equal(
        (await verifier.verify(await signAccessToken(ed, server.issuer))).sub,
        'reporting-service',
      );
      assert.deepEqual(server.requests, { discovery: 0, jwks: 1 });
    });

    it('retries a failed discovery instead of remembering the failure', async (t) => {
      const server = await keyServer(t);
      const verifier = verifierFor(server);
      const token = await signAccessToken(es, server.issuer);
      server.discoveryStatus = 500;
      await refused(verifier.verify(token), 'jwks_unavailable', 'discovery_failed', /HTTP 500/);
      server.discoveryStatus = undefined;
      assert.equal((await verifier.verify(token)).sub, 'reporting-service');
      assert.deepEqual(server.requests, { discovery: 2, jwks: 1 });
    });

    it('refuses discovery metadata that names another issuer', async (t) => {
      const server = await keyServer(t);
      const verifier = createVerifier({
        issuer: `${server.issuer}/tenant`,
        audience: AUDIENCE,
        fetch: (input, init) => fetch(String(input).replace('/tenant', ''), init),
      });
      const token = await signAccessToken(es, `${server.issuer}/tenant`);
      await refused(verifier.verify(token), 'jwks_unavailable', 'discovery_failed', /names issuer/);
    });

    it('answers jwks_unavailable when the JWKS server never answers', { timeout: 20_000 }, async (t) => {
      const silent = await startSilentServer();
      t.after(() => silent.close());
      const viaJwksUri = createVerifier({
        issuer: 'https://lock.example.com',
        audience: AUDIENCE,
        jwksUri: `${silent.url}/jwks`,
        requestTimeout: 200,
      });
      const token = await signAccessToken(es, 'https://lock.example.com');
      await refused(
        viaJwksUri.verify(token),
        'jwks_unavailable',
        'jwks_fetch_failed',
        /no answer within 200 ms/,
      );

      const viaDiscovery = createVerifier({ issuer: silent.url, audience: AUDIENCE, requestTimeout: 200 });
      await refused(
        viaDiscovery.verify(await signAccessToken(es, silent.url)),
        'jwks_unavailable',
        'discovery_failed',
        /no answer within 200 ms/,
      );
    });

    it('keeps verifying with the last good JWKS while Lock is down, asking again only every few seconds', async (t) => {
      const server = await keyServer(t, 'no-cache'); // stale at once: every verification wants a refetch
      const verifier = verifierFor(server);
      await verifier.verify(await signAccessToken(es, server.issuer));
      server.jwksStatus = 503;
      const claims = await verifier.verify(await signAccessToken(es, server.issuer));
      assert.equal(claims.sub, 'reporting-service');
      assert.equal(server.requests.jwks, 2, 'it did ask Lock again');
      await verifier.verify(await signAccessToken(ed, server.issuer));
      assert.equal(server.requests.jwks, 2, 'not again on the very next request');
    });

    it('refuses with jwks_unavailable once the stale keys are past maxStaleness', async (t) => {
      const server = await keyServer(t, 'no-cache');
      const verifier = verifierFor(server, { maxStaleness: 0 });
      await verifier.verify(await signAccessToken(es, server.issuer));
      server.jwksStatus = 503;
      await refused(
        verifier.verify(await signAccessToken(es, server.issuer)),
        'jwks_unavailable',
        'jwks_fetch_failed',
        /503/,
      );
    });

    it('answers jwks_unavailable when the JWKS server is down', async () => {
      const url = await refusedUrl();
      const verifier = createVerifier({ issuer: url, audience: AUDIENCE, jwksUri: `${url}/jwks` });
      await refused(
        verifier.verify(await signAccessToken(es, url)),
        'jwks_unavailable',
        'jwks_fetch_failed',
        /ECONNREFUSED/,
      );
    });

    it('never verifies with a private or symmetric member of the JWKS', async (t) => {
      const server = await keyServer(t);
      // A JWKS that leaked es's private key under another kid: a verifier must not use it.
      server.keys = [
        { ...(await exportJWK(es.privateKey)), kid: 'leaked' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'shared' },
      ];
      const token = await signAccessToken({ ...es, kid: 'leaked' }, server.issuer);
      await refused(verifierFor(server).verify(token), 'invalid_token', 'unknown_kid');
    });
  });
});
