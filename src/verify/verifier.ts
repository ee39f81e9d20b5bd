import {
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
  type ProtectedHeaderParameters,
} from 'jose';
import { bearerToken } from './bearer.ts';
import { type AccessTokenClaims, readAccessTokenClaims } from './claims.ts';
import { jwksUriSource } from './discovery.ts';
import { DpopChecker } from './dpop.ts';
import { invalidToken, TokenVerificationError } from './errors.ts';
import { checkProtectedHeader } from './header-checks.ts';
import { JwksCache, type KeySet } from './jwks-cache.ts';
import { type ResolvedOptions, resolveOptions, type VerifierOptions } from './options.ts';

export interface Verifier {
  /** The claims of a valid access token for this API; throws `TokenVerificationError` otherwise. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** Same, from an `Authorization` header value; a missing or non-Bearer header is an error too. */
  verifyAuthorizationHeader(header: string | null | undefined): Promise<AccessTokenClaims>;
  /**
   * A whole request: `Authorization: DPoP <token>` with its `DPoP` proof (RFC 9449), or — unless
   * `requireDpop` — `Authorization: Bearer <token>` for a token bound to no key.
   */
  verifyRequest(request: ProtectedRequest): Promise<AccessTokenClaims>;
  /** The `DPoP-Nonce` to send with responses, when `dpopNonceLifetime` is set. */
  dpopNonce(): string | undefined;
  /** The `algs` a DPoP challenge names. */
  readonly dpopAlgorithms: readonly string[];
}

export interface ProtectedRequest {
  /** The `Authorization` header value. */
  authorization: string | null | undefined;
  /** The `DPoP` header value. */
  dpop: string | null | undefined;
  method: string;
  /** The absolute URL the client addressed (behind a proxy: the public one). */
  url: string;
}

/** A verifier for Lock's RFC 9068 access tokens, holding its own JWKS cache: make one per API and reuse it. */
export function createVerifier(options: VerifierOptions): Verifier {
  const resolved = resolveOptions(options);
  const jwks = new JwksCache({
    jwksUri: jwksUriSource(resolved),
    fetch: resolved.fetch,
    requestTimeout: resolved.requestTimeout,
    unknownKidCooldown: resolved.unknownKidCooldown,
    maxStaleness: resolved.maxStaleness,
    freshness: { defaultMs: resolved.defaultJwksMaxAge, longestMs: resolved.longestJwksMaxAge },
  });

  const dpop = new DpopChecker({
    algorithms: resolved.dpopAlgorithms,
    proofMaxAge: resolved.dpopProofMaxAge,
    clockTolerance: resolved.clockTolerance,
    nonceLifetime: resolved.dpopNonceLifetime,
    replayCacheSize: resolved.dpopReplayCacheSize,
  });

  async function verify(token: string, proofOfPossession = false): Promise<AccessTokenClaims> {
    const now = Date.now();
    const rules = { ...resolved, proofOfPossession };
    const { header, payload } = decode(token);
    // Refuse what the token shows on its face before fetching any key for it.
    checkProtectedHeader(header, resolved.algorithms);
    readAccessTokenClaims(payload, rules, Math.floor(now / 1000));
    const verified = await verifySignature(token, header, now);
    return readAccessTokenClaims(verified, rules, Math.floor(now / 1000));
  }

  async function verifyDpop(token: string, request: ProtectedRequest): Promise<AccessTokenClaims> {
    // The proof first: it is cheap, needs no key fetch, and a replay must fail even with a good token.
    const proof = await dpop.check({ method: request.method, url: request.url, proof: request.dpop }, token);
    const claims = await verify(token, true);
    const jkt = (claims.payload.cnf as { jkt?: unknown } | undefined)?.jkt;
    if (typeof jkt !== 'string')
      throw invalidToken('dpop_key_mismatch', 'presented with DPoP but bound to no key (no cnf.jkt)');
    if (jkt !== proof.thumbprint)
      throw invalidToken(
        'dpop_key_mismatch',
        'the DPoP proof is signed with another key than the token is bound to',
      );
    // Spent only now, synchronously: of concurrent presentations of one proof exactly one gets here first.
    proof.use();
    return claims;
  }

  async function verifyRequest(request: ProtectedRequest): Promise<AccessTokenClaims> {
    const scheme = request.authorization?.trim().split(' ', 1)[0]?.toLowerCase();
    try {
      if (scheme === 'dpop') return await verifyDpop(dpopToken(request.authorization!), request);
      if (resolved.requireDpop)
        throw new TokenVerificationError(
          'invalid_request',
          scheme === undefined || scheme === '' ? 'missing_token' : 'dpop_required',
          'this API accepts only DPoP-bound access tokens: send "Authorization: DPoP <token>" and a DPoP proof',
        );
      return await verify(bearerToken(request.authorization));
    } catch (error) {
      if (error instanceof TokenVerificationError && (scheme === 'dpop' || resolved.requireDpop))
        error.scheme = 'DPoP';
      throw error;
    }
  }

  async function verifySignature(token: string, header: ProtectedHeaderParameters, now: number) {
    const current = await jwks.current();
    try {
      return await verifyWith(token, current.keySet, resolved, now);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw joseRefusal(error);
      if (current.justFetched) throw unknownKid(header, current.uri, 'fetched just now');
    }
    const refreshed = await jwks.refetchForUnknownKid();
    if (refreshed === undefined)
      throw unknownKid(
        header,
        current.uri,
        `not refetched: unknown kids trigger at most one refetch per ${resolved.unknownKidCooldown} ms`,
      );
    try {
      return await verifyWith(token, refreshed.keySet, resolved, now);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey)
        throw unknownKid(header, refreshed.uri, 'refetched just now');
      throw joseRefusal(error);
    }
  }

  return {
    verify,
    // async, so a missing header is a rejected promise like every other refusal, never a throw.
    verifyAuthorizationHeader: async (header) => verify(bearerToken(header)),
    verifyRequest,
    dpopNonce: () => dpop.currentNonce(),
    dpopAlgorithms: resolved.dpopAlgorithms,
  };
}

/** RFC 9449 §7.1: `DPoP` (any case), spaces, a token68. */
const DPOP_CREDENTIALS = /^DPoP +([A-Za-z0-9\-._~+/]+=*)$/i;

function dpopToken(header: string): string {
  const match = DPOP_CREDENTIALS.exec(header.trim());
  if (match === null)
    throw new TokenVerificationError(
      'invalid_request',
      'malformed_header',
      'malformed Authorization header: expected "DPoP <access token>" with a single token',
    );
  return match[1]!;
}

function decode(token: string): { header: ProtectedHeaderParameters; payload: JWTPayload } {
  if (typeof token !== 'string' || token.split('.').length !== 3)
    throw invalidToken('malformed', 'not a JWT in compact serialisation (three dot-separated parts)');
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch (error) {
    throw invalidToken('malformed', `not a decodable JWT: ${(error as Error).message}`, error);
  }
}

/** jose checks everything again after the signature, so a verified payload never skips a rule. */
async function verifyWith(
  token: string,
  keySet: KeySet,
  options: ResolvedOptions,
  now: number,
): Promise<JWTPayload> {
  const verifyOptions: JWTVerifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: [...options.algorithms],
    typ: 'at+jwt',
    clockTolerance: options.clockTolerance,
    requiredClaims: ['exp', 'iat', 'sub', 'jti', 'client_id'],
    currentDate: new Date(now),
  };
  try {
    return (await jwtVerify(token, keySet, verifyOptions)).payload;
  } catch (error) {
    // Several keys fit a token without kid (a signing and a next key of one algorithm): try each.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return (await jwtVerify(token, key, verifyOptions)).payload;
      } catch (attempt) {
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function unknownKid(header: ProtectedHeaderParameters, uri: string, how: string) {
  const kid = header.kid === undefined ? 'without a kid' : `with kid ${JSON.stringify(header.kid)}`;
  return invalidToken('unknown_kid', `the JWKS at ${uri} has no ${header.alg} key ${kid} (${how})`);
}

/** Errors jose raises after our own checks passed: in practice a bad signature. */
function joseRefusal(error: unknown): TokenVerificationError {
  if (error instanceof TokenVerificationError) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return invalidToken('bad_signature', 'the signature does not verify with the issuer’s key', error);
  if (error instanceof errors.JWTExpired) return invalidToken('expired', error.message, error);
  if (error instanceof errors.JOSEAlgNotAllowed) return invalidToken('alg_not_allowed', error.message, error);
  if (error instanceof errors.JWTClaimValidationFailed)
    return invalidToken('invalid_claim', `claim "${error.claim}": ${error.message}`, error);
  if (error instanceof errors.JOSEError) return invalidToken('malformed', error.message, error);
  throw error;
}
