import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import { compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { ecdsaDerToJose, LockSigningKey } from '../../src/oidc/signing-key.ts';

/** The JWS signing input oidc-provider hands the key: base64url(header).base64url(payload). */
function signingInput(alg: string, kid: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg, typ: 'at+jwt', kid })}.${part({ sub: 'svc', aud: 'https://api.example', scope: 'read' })}`;
}

describe('LockSigningKey: Lock signs with node:crypto what oidc-provider built', () => {
  for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`${alg}: a JWS library verifies the signature with the published public key`, async () => {
      const { privateKey } = await generateKeyPair(alg, {
        extractable: true,
        ...(alg === 'EdDSA' && { crv: 'Ed25519' }),
      });
      const privateJwk = { ...(await exportJWK(privateKey)), kid: `k-${alg}`, alg };
      const key = new LockSigningKey(privateJwk);
      assert.equal(key.kid, `k-${alg}`);
      assert.equal(key.alg, alg);
      assert.equal(key.use, 'sig');
      // What oidc-provider publishes and verifies with: the public members only.
      const { d, p, q, dp, dq, qi, ...publicJwk } = privateJwk as JWK;
      assert.deepEqual(
        Object.fromEntries(Object.entries(key.keyObject().export({ format: 'jwk' }))),
        Object.fromEntries(Object.entries(publicJwk).filter(([name]) => !['kid', 'alg'].includes(name))),
      );
      for (let round = 0; round < 20; round++) {
        const input = signingInput(alg, privateJwk.kid);
        const signature = Buffer.from(await key.sign(Buffer.from(input))).toString('base64url');
        const { payload } = await compactVerify(`${input}.${signature}`, await importJWK(publicJwk, alg));
        assert.equal(JSON.parse(Buffer.from(payload).toString()).sub, 'svc');
      }
    });
  }

  it('refuses an algorithm Lock does not offer', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const jwk = privateKey.export({ format: 'jwk' });
    assert.throws(() => new LockSigningKey({ ...jwk, kid: 'k', alg: 'ES384' }), /unsupported alg ES384/);
  });
});

describe('ecdsaDerToJose', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('gives the fixed-width r‖s pair that verifies, also when r or s is short or has a sign byte', () => {
    // About one signature in 128 has an r or s shorter than 32 bytes, and half have a sign byte:
    // 2,000 signatures meet both kinds many times over.
    let short = 0;
    let signByte = 0;
    for (let round = 0; round < 2000; round++) {
      const data = Buffer.from(`message ${round}`);
      const der = sign('sha256', data, privateKey);
      const lengths = [der[3]!, der[5 + der[3]!]!];
      short += lengths.filter((length) => length < 32).length;
      signByte += lengths.filter((length) => length === 33).length;
      const raw = ecdsaDerToJose(der, 32);
      assert.equal(raw.length, 64);
      assert.ok(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw), `round ${round}`);
    }
    assert.ok(short > 0 && signByte > 0, `short ${short}, with sign byte ${signByte}`);
  });

  it('refuses what is not a DER ECDSA signature', () => {
    assert.throws(() => ecdsaDerToJose(Buffer.from('not der'), 32), /not a DER ECDSA signature/);
    const tooLong = Buffer.concat([
      Buffer.from([0x30, 0x46, 0x02, 0x21, 0x01]),
      Buffer.alloc(32, 1),
      Buffer.from([0x02, 0x21, 0x01]),
      Buffer.alloc(32, 1),
    ]);
    assert.throws(() => ecdsaDerToJose(tooLong, 32), /too long/);
  });
});
