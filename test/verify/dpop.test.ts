import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  authChallenge,
  createVerifier,
  type ProtectedRequest,
  TokenVerificationError,
  type Verifier,
} from '../../src/verify/index.ts';
import { DpopKey } from '../helpers/dpop.ts';
import { type KeyServer, startKeyServer } from './key-server.ts';
import {
  AUDIENCE,
  accessTokenClaims,
  generateSigningKey,
  type SigningKey,
  signAccessToken,
} from './signing.ts';

const URL_OF_API = 'https://db-api.example.com/sensitive-data';

async function refused(promise: Promise<unknown>, code: string, reason: string, message?: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof TokenVerificationError, `expected a TokenVerificationError, got ${error}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('lock/verify: DPoP-bound tokens (RFC 9449 §4.3, §7)', () => {
  let issuerKey: SigningKey;
  let server: KeyServer;
  let client: DpopKey;
  let verifier: Verifier;
  let token: string;

  before(async () => {
    issuerKey = await generateSigningKey('ES256');
    server = await startKeyServer([issuerKey.jwk]);
    client = await DpopKey.generate('ES256');
    verifier = createVerifier({ issuer: server.issuer, audience: AUDIENCE });
    token = await signAccessToken(issuerKey, server.issuer, {
      claims: accessTokenClaims(server.issuer, { cnf: { jkt: client.thumbprint } }),
    });
  });
  after(() => server.close());

  const request = async (overrides: Partial<ProtectedRequest> = {}): Promise<ProtectedRequest> => ({
    authorization: `DPoP ${token}`,
    dpop: await client.proof({ htm: 'GET', htu: URL_OF_API, accessToken: token }),
    method: 'GET',
    url: URL_OF_API,
    ...overrides,
  });

  it('accepts a bound token with a proof of its key, whatever the query of the request', async () => {
    const claims = await verifier.verifyRequest(await request({ url: `${URL_OF_API}?limit=5#top` }));
    assert.equal(claims.sub, 'reporting-service');
    assert.deepEqual(claims.payload.cnf, { jkt: client.thumbprint });
  });

  it('40 concurrent presentations of one proof: exactly one passes', async () => {
    const one = await request();
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => verifier.verifyRequest(one)));
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 1);
    for (const outcome of outcomes.filter((o) => o.status === 'rejected'))
      assert.match(String((outcome as PromiseRejectedResult).reason.message), /used before/);
  });

  it('proofs of a key that holds no token cannot push a spent jti out of the replay cache', async () => {
    const small = createVerifier({ issuer: server.issuer, audience: AUDIENCE, dpopReplayCacheSize: 2 });
    const spent = await request();
    assert.ok(await small.verifyRequest(spent));
    const thief = await DpopKey.generate('ES256');
    for (let i = 0; i < 5; i++) {
      const dpop = await thief.proof({ htm: 'GET', htu: URL_OF_API, accessToken: token });
      await refused(small.verifyRequest(await request({ dpop })), 'invalid_token', 'dpop_key_mismatch');
    }
    await refused(small.verifyRequest(spent), 'invalid_dpop_proof', 'invalid_dpop_proof', /used before/);
  });

  it('refuses a proof whose ath is another token’s hash', async () => {
    const dpop = await client.proof({ htm: 'GET', htu: URL_OF_API, accessToken: `${token}x` });
    await refused(
      verifier.verifyRequest(await request({ dpop })),
      'invalid_dpop_proof',
      'invalid_dpop_proof',
      /ath/,
    );
  });

  it('refuses a proof too old or from the future (iat window)', async () => {
    for (const iat of [Math.floor(Date.now() / 1000) - 120, Math.floor(Date.now() / 1000) + 120]) {
      const dpop = await client.proof({ htm: 'GET', htu: URL_OF_API, accessToken: token, iat });
      await refused(
        verifier.verifyRequest(await request({ dpop })),
        'invalid_dpop_proof',
        'invalid_dpop_proof',
        /iat/,
      );
    }
  });

  it('refuses a proof carrying a private key, an HS256 proof, a wrong typ, and no proof at all', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    const claims = {
      htm: 'GET',
      htu: URL_OF_API,
      jti: randomUUID(),
      ath: createHash('sha256').update(token).digest('base64url'),
    };
    const withPrivateJwk = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: privateJwk })
      .setIssuedAt()
      .sign(privateKey);
    await refused(
      verifier.verifyRequest(await request({ dpop: withPrivateJwk })),
      'invalid_dpop_proof',
      'invalid_dpop_proof',
    );
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: client.publicJwk })
      .setIssuedAt()
      .sign(new TextEncoder().encode('secret'));
    await refused(
      verifier.verifyRequest(await request({ dpop: hs256 })),
      'invalid_dpop_proof',
      'invalid_dpop_proof',
      /alg/,
    );
    const jwtTyp = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: client.publicJwk })
      .setIssuedAt()
      .sign(privateKey);
    await refused(
      verifier.verifyRequest(await request({ dpop: jwtTyp })),
      'invalid_dpop_proof',
      'invalid_dpop_proof',
      /typ/,
    );
    const missing = verifier.verifyRequest(await request({ dpop: undefined }));
    await refused(missing, 'invalid_dpop_proof', 'invalid_dpop_proof', /no DPoP header/);
  });

  it('refuses a token bound to no key when presented with DPoP, and a bound one presented as Bearer', async () => {
    const unbound = await signAccessToken(issuerKey, server.issuer);
    const dpop = await client.proof({ htm: 'GET', htu: URL_OF_API, accessToken: unbound });
    await refused(
      verifier.verifyRequest(await request({ authorization: `DPoP ${unbound}`, dpop })),
      'invalid_token',
      'dpop_key_mismatch',
      /no cnf\.jkt/,
    );
    await refused(
      verifier.verifyRequest(await request({ authorization: `Bearer ${token}`, dpop: undefined })),
      'invalid_token',
      'sender_constrained',
    );
  });

  it('requireDpop: a Bearer token, even unbound, is refused with a DPoP challenge', async () => {
    const strict = createVerifier({ issuer: server.issuer, audience: AUDIENCE, requireDpop: true });
    const unbound = await signAccessToken(issuerKey, server.issuer);
    const attempt = strict.verifyRequest({
      authorization: `Bearer ${unbound}`,
      dpop: undefined,
      method: 'GET',
      url: URL_OF_API,
    });
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof TokenVerificationError);
      assert.equal(error.reason, 'dpop_required');
      assert.equal(
        authChallenge(error, { realm: 'db-api', dpopAlgorithms: strict.dpopAlgorithms }),
        'DPoP realm="db-api", error="invalid_request", algs="ES256 PS256 RS256 EdDSA"',
      );
      return true;
    });
    const none = strict.verifyRequest({
      authorization: undefined,
      dpop: undefined,
      method: 'GET',
      url: URL_OF_API,
    });
    await assert.rejects(none, (error: unknown) => {
      assert.ok(error instanceof TokenVerificationError);
      assert.equal(error.status, 401);
      assert.equal(authChallenge(error, { dpopAlgorithms: ['ES256'] }), 'DPoP algs="ES256"');
      return true;
    });
    assert.ok(await strict.verifyRequest(await request()));
  });

  it('nonces: none refused with the nonce to use, which then passes; another verifier’s nonce does not', async () => {
    const withNonces = createVerifier({ issuer: server.issuer, audience: AUDIENCE, dpopNonceLifetime: 30 });
    const other = createVerifier({ issuer: server.issuer, audience: AUDIENCE, dpopNonceLifetime: 30 });
    let nonce = '';
    await assert.rejects(withNonces.verifyRequest(await request()), (error: unknown) => {
      assert.ok(error instanceof TokenVerificationError);
      assert.equal(error.code, 'use_dpop_nonce');
      nonce = error.dpopNonce!;
      return true;
    });
    assert.equal(nonce, withNonces.dpopNonce());
    const foreign = await client.proof({
      htm: 'GET',
      htu: URL_OF_API,
      accessToken: token,
      nonce: other.dpopNonce()!,
    });
    await refused(
      withNonces.verifyRequest(await request({ dpop: foreign })),
      'use_dpop_nonce',
      'use_dpop_nonce',
    );
    const good = await client.proof({ htm: 'GET', htu: URL_OF_API, accessToken: token, nonce });
    assert.ok(await withNonces.verifyRequest(await request({ dpop: good })));
  });
});
