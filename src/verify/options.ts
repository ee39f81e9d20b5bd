/** What `createVerifier` accepts; every default is in `VERIFIER_DEFAULTS` below. */
export interface VerifierOptions {
  /** Lock's issuer, compared exactly with `iss`; discovery is read from `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** This API's resource id: a token's `aud` must contain it. */
  audience: string;
  /** Signature algorithms accepted; asymmetric only (never `none` or HS*). */
  algorithms?: readonly string[];
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockTolerance?: number;
  /** The resource's single-string role claim (its `roleClaim` in Lock's configuration), if it has one. */
  roleClaim?: string;
  /** Milliseconds a discovery or JWKS request may take, body included. */
  requestTimeout?: number;
  /** Milliseconds between JWKS refetches that an unknown `kid` may trigger. */
  unknownKidCooldown?: number;
  /**
   * Milliseconds past its freshness that the last JWKS fetched may still verify tokens while Lock
   * cannot be reached (stale-if-error); 0 refuses every token once the JWKS is stale and unreachable.
   */
  maxStaleness?: number;
  /** The JWKS URL; when given, discovery is skipped. */
  jwksUri?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /** Refuse Bearer tokens: only `Authorization: DPoP` with a valid proof passes `verifyRequest`. */
  requireDpop?: boolean;
  /** Algorithms a DPoP proof may be signed with; asymmetric only. */
  dpopAlgorithms?: readonly string[];
  /** Seconds a DPoP proof's `iat` may lie from now, either way; its `jti` is remembered that long. */
  dpopProofMaxAge?: number;
  /** Seconds between DPoP nonce rotations; 0 (the default) demands no nonce. */
  dpopNonceLifetime?: number;
  /** Most DPoP proof `jti`s remembered for replay detection. */
  dpopReplayCacheSize?: number;
}

export interface ResolvedOptions {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  clockTolerance: number;
  roleClaim: string | undefined;
  requestTimeout: number;
  unknownKidCooldown: number;
  maxStaleness: number;
  jwksUri: string | undefined;
  fetch: typeof fetch;
  requireDpop: boolean;
  dpopAlgorithms: readonly string[];
  dpopProofMaxAge: number;
  dpopNonceLifetime: number;
  dpopReplayCacheSize: number;
  /** Milliseconds a JWKS stays fresh when its response names no `max-age`. */
  defaultJwksMaxAge: number;
  /** Upper bound on a JWKS response's `max-age`, so a removed key stops verifying within a day. */
  longestJwksMaxAge: number;
}

export const VERIFIER_DEFAULTS = {
  algorithms: ['RS256', 'ES256', 'EdDSA'],
  clockTolerance: 5,
  requestTimeout: 5_000,
  unknownKidCooldown: 30_000,
  /** A day: no access token Lock issues lives longer (accessTokenTTL ≤ 86,400 s). */
  maxStaleness: 24 * 60 * 60_000,
  defaultJwksMaxAge: 5 * 60_000,
  longestJwksMaxAge: 24 * 60 * 60_000,
  dpopAlgorithms: ['ES256', 'PS256', 'RS256', 'EdDSA'],
  dpopProofMaxAge: 60,
  dpopNonceLifetime: 0,
  dpopReplayCacheSize: 100_000,
} as const;

/** The asymmetric JWS algorithms jose verifies; symmetric ones would let a public key sign tokens. */
export const ASYMMETRIC_JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export const ASYMMETRIC_ALGORITHMS: ReadonlySet<string> = new Set(ASYMMETRIC_JWS_ALGORITHMS);

/** A misconfigured verifier is a programming error: it fails at construction, naming the option. */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  const issuer = requireUrl('issuer', options.issuer);
  const jwksUri = options.jwksUri === undefined ? undefined : requireUrl('jwksUri', options.jwksUri);
  if (typeof options.audience !== 'string' || options.audience === '')
    throw configError('audience', 'must be a non-empty string (this API’s resource id)');
  const algorithms = options.algorithms ?? VERIFIER_DEFAULTS.algorithms;
  if (algorithms.length === 0) throw configError('algorithms', 'must name at least one algorithm');
  for (const alg of algorithms) {
    if (!ASYMMETRIC_ALGORITHMS.has(alg))
      throw configError(
        'algorithms',
        `"${alg}" is not an asymmetric JWS algorithm; use some of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`,
      );
  }
  const dpopAlgorithms = options.dpopAlgorithms ?? VERIFIER_DEFAULTS.dpopAlgorithms;
  if (dpopAlgorithms.length === 0 || dpopAlgorithms.some((alg) => !ASYMMETRIC_ALGORITHMS.has(alg)))
    throw configError('dpopAlgorithms', `must name some of ${[...ASYMMETRIC_ALGORITHMS].join(', ')}`);
  if (options.roleClaim !== undefined && (typeof options.roleClaim !== 'string' || options.roleClaim === ''))
    throw configError('roleClaim', 'must be a non-empty claim name');
  return {
    issuer,
    audience: options.audience,
    algorithms: [...algorithms],
    clockTolerance: nonNegative('clockTolerance', options.clockTolerance ?? VERIFIER_DEFAULTS.clockTolerance),
    roleClaim: options.roleClaim,
    requestTimeout: positive('requestTimeout', options.requestTimeout ?? VERIFIER_DEFAULTS.requestTimeout),
    unknownKidCooldown: nonNegative(
      'unknownKidCooldown',
      options.unknownKidCooldown ?? VERIFIER_DEFAULTS.unknownKidCooldown,
    ),
    maxStaleness: nonNegative('maxStaleness', options.maxStaleness ?? VERIFIER_DEFAULTS.maxStaleness),
    jwksUri,
    fetch: options.fetch ?? globalThis.fetch,
    requireDpop: options.requireDpop === true,
    dpopAlgorithms: [...dpopAlgorithms],
    dpopProofMaxAge: positive(
      'dpopProofMaxAge',
      options.dpopProofMaxAge ?? VERIFIER_DEFAULTS.dpopProofMaxAge,
    ),
    dpopNonceLifetime: nonNegative(
      'dpopNonceLifetime',
      options.dpopNonceLifetime ?? VERIFIER_DEFAULTS.dpopNonceLifetime,
    ),
    dpopReplayCacheSize: positive(
      'dpopReplayCacheSize',
      options.dpopReplayCacheSize ?? VERIFIER_DEFAULTS.dpopReplayCacheSize,
    ),
    defaultJwksMaxAge: VERIFIER_DEFAULTS.defaultJwksMaxAge,
    longestJwksMaxAge: VERIFIER_DEFAULTS.longestJwksMaxAge,
  };
}

function requireUrl(name: string, value: unknown): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw configError(name, 'must be an absolute URL');
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw configError(name, 'must be a number ≥ 0');
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw configError(name, 'must be a number > 0');
  return value;
}

function configError(option: string, message: string) {
  return new TypeError(`createVerifier: ${option} ${message}`);
}
