import type { ProtectedHeaderParameters } from 'jose';
import { invalidToken } from './errors.ts';

/** Headers that carry or point at a key: trusting them lets the token choose its own verifier (RFC 8725 §3.10). */
const KEY_HEADERS = ['jwk', 'jku', 'x5u', 'x5c'] as const;

/** RFC 9068 §2.1; media types compare case-insensitively and `application/` may be left out. */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt']);

/**
 * Refuses, before any key is looked up, what the protected header alone shows to be wrong: the
 * algorithm confusions, keys smuggled in the header, extensions nobody here understands, and
 * anything that is not an access token.
 */
export function checkProtectedHeader(header: ProtectedHeaderParameters, algorithms: readonly string[]): void {
  checkAlgorithm(header.alg, algorithms);
  for (const name of KEY_HEADERS) {
    if (header[name] !== undefined)
      throw invalidToken(
        'untrusted_key_header',
        `header "${name}" is refused: the verifier uses only the issuer's published JWKS, never a key the token names`,
      );
  }
  if (header.crit !== undefined)
    throw invalidToken(
      'unsupported_crit',
      `header "crit" names ${JSON.stringify(header.crit)}, extensions this verifier does not understand (RFC 7515 §4.1.11)`,
    );
  if (typeof header.typ !== 'string' || !ACCESS_TOKEN_TYPES.has(header.typ.toLowerCase()))
    throw invalidToken(
      'wrong_typ',
      `header typ is ${JSON.stringify(header.typ ?? null)}, not "at+jwt": this is not an RFC 9068 access token` +
        ' (an ID token or another JWT cannot stand in for one)',
    );
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw invalidToken('malformed', 'header "kid" must be a string');
}

function checkAlgorithm(alg: unknown, algorithms: readonly string[]): void {
  if (typeof alg === 'string' && algorithms.includes(alg)) return;
  if (typeof alg === 'string' && alg.toLowerCase() === 'none')
    throw invalidToken('alg_not_allowed', 'alg "none" (an unsigned token) is never accepted');
  if (typeof alg === 'string' && /^HS\d+$/i.test(alg))
    throw invalidToken(
      'alg_not_allowed',
      `alg "${alg}" is refused: Lock signs with asymmetric keys, and accepting HMAC would let anyone ` +
        'holding the public key forge tokens (RFC 8725 §2.1)',
    );
  throw invalidToken(
    'alg_not_allowed',
    `alg ${JSON.stringify(alg ?? null)} is not one of the allowed algorithms (${algorithms.join(', ')})`,
  );
}
