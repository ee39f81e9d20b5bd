import { createHash, timingSafeEqual } from 'node:crypto';

const HASH_OF_ALG: Record<string, string> = {
  RS256: 'sha256',
  PS256: 'sha256',
  ES256: 'sha256',
  RS384: 'sha384',
  PS384: 'sha384',
  ES384: 'sha384',
  RS512: 'sha512',
  PS512: 'sha512',
  ES512: 'sha512',
  // Ed25519 signs with SHA-512 (OpenID's registration of at_hash for EdDSA).
  EdDSA: 'sha512',
  Ed25519: 'sha512',
};

/**
 * OIDC Core §3.1.3.8: the ID token's `at_hash` is the left half of the hash of the access token,
 * with the hash of the token's signature algorithm, base64url. False when it does not match or
 * the algorithm has no defined hash.
 */
export function accessTokenHashMatches(atHash: string, accessToken: string, alg: string): boolean {
  const hash = HASH_OF_ALG[alg];
  if (hash === undefined) return false;
  const digest = createHash(hash).update(accessToken, 'ascii').digest();
  const expected = Buffer.from(digest.subarray(0, digest.length / 2).toString('base64url'));
  const given = Buffer.from(atHash);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
