/**
 * `invalid_request` and `invalid_token` are RFC 6750 error codes; `jwks_unavailable` means the
 * verifier could not get the issuer's keys, so it cannot tell a good token from a bad one.
 */
export type TokenErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'jwks_unavailable'
  // RFC 9449 §7.1 and §9: a bad DPoP proof, or one without the nonce the API demands.
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

/** Which check failed: stable names for logs, metrics and tests; the message says it for people. */
export type TokenErrorReason =
  | 'missing_token'
  | 'malformed_header'
  | 'malformed'
  | 'alg_not_allowed'
  | 'untrusted_key_header'
  | 'unsupported_crit'
  | 'wrong_typ'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  | 'not_yet_valid'
  | 'missing_claim'
  | 'invalid_claim'
  | 'sender_constrained'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'dpop_required'
  | 'dpop_key_mismatch'
  | 'unknown_kid'
  | 'bad_signature'
  | 'discovery_failed'
  | 'jwks_fetch_failed';

const STATUS: Record<TokenErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  jwks_unavailable: 503,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
};

/** Why a token was refused, with the HTTP status an API should answer. */
export class TokenVerificationError extends Error {
  override name = 'TokenVerificationError';
  readonly code: TokenErrorCode;
  readonly reason: TokenErrorReason;
  readonly status: number;
  /** With `use_dpop_nonce`: the nonce to send back in the `DPoP-Nonce` header. */
  readonly dpopNonce: string | undefined;
  /** The scheme the request used or had to use: its challenge names that scheme (RFC 9449 §7.1). */
  scheme: 'Bearer' | 'DPoP' = 'Bearer';
  constructor(
    code: TokenErrorCode,
    reason: TokenErrorReason,
    message: string,
    options?: { cause?: unknown; dpopNonce?: string },
  ) {
    super(message, options);
    this.code = code;
    this.reason = reason;
    this.dpopNonce = options?.dpopNonce;
    if (code === 'invalid_dpop_proof' || code === 'use_dpop_nonce') this.scheme = 'DPoP';
    // RFC 6750 §3.1: a request without credentials is a 401, not a malformed request.
    this.status = reason === 'missing_token' ? 401 : STATUS[code];
  }
}

export function invalidToken(reason: TokenErrorReason, message: string, cause?: unknown) {
  return new TokenVerificationError('invalid_token', reason, `access token refused: ${message}`, { cause });
}

export function jwksUnavailable(
  reason: 'discovery_failed' | 'jwks_fetch_failed',
  message: string,
  cause?: unknown,
) {
  return new TokenVerificationError('jwks_unavailable', reason, message, { cause });
}

/**
 * The `WWW-Authenticate` value for a 400/401 answer (RFC 6750 §3): no error code when the request
 * carried no bearer token at all. Undefined for `jwks_unavailable`, which is the API's fault (503).
 */
export function bearerChallenge(error: TokenVerificationError, realm?: string): string | undefined {
  if (error.code === 'jwks_unavailable') return undefined;
  const params = realm === undefined ? [] : [`realm="${realm.replaceAll(/["\\]/g, '')}"`];
  if (error.reason !== 'missing_token') params.push(`error="${error.code}"`);
  return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`;
}

/**
 * The `WWW-Authenticate` value for a refusal in the scheme it concerns: `Bearer …` as
 * `bearerChallenge`, or RFC 9449 §7.1's `DPoP error=…, algs=…` for a DPoP request or an API that
 * requires DPoP. Undefined for `jwks_unavailable`.
 */
export function authChallenge(
  error: TokenVerificationError,
  options: { realm?: string; dpopAlgorithms?: readonly string[] } = {},
): string | undefined {
  if (error.scheme === 'Bearer') return bearerChallenge(error, options.realm);
  if (error.code === 'jwks_unavailable') return undefined;
  const params = options.realm === undefined ? [] : [`realm="${options.realm.replaceAll(/["\\]/g, '')}"`];
  if (error.reason !== 'missing_token') params.push(`error="${error.code}"`);
  if (options.dpopAlgorithms !== undefined) params.push(`algs="${options.dpopAlgorithms.join(' ')}"`);
  return params.length === 0 ? 'DPoP' : `DPoP ${params.join(', ')}`;
}
