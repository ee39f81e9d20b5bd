import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  calculateJwkThumbprint,
  decodeProtectedHeader,
  EmbeddedJWK,
  errors,
  type JWK,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { TokenVerificationError } from './errors.ts';

/** What an API knows of the request a DPoP proof must match (RFC 9449 §4.3). */
export interface DpopRequest {
  /** The HTTP method, e.g. `GET`. */
  method: string;
  /** The request's absolute URL as the client addressed it (behind a proxy: the public one). */
  url: string;
  /** The `DPoP` header value, if any. */
  proof: string | null | undefined;
}

export interface DpopRules {
  algorithms: readonly string[];
  /** Seconds a proof's `iat` may lie from now, either way. */
  proofMaxAge: number;
  /** Seconds of extra leeway on top of `proofMaxAge`. */
  clockTolerance: number;
  /** Demand a server nonce (RFC 9449 §9), rotated every this many seconds; 0 = no nonce. */
  nonceLifetime: number;
  /** Most `jti`s remembered at once; beyond it the oldest are forgotten. */
  replayCacheSize: number;
}

/** RFC 9449 §7.1: a refusal of the DPoP scheme says so in its challenge. */
export function invalidProof(message: string, cause?: unknown): TokenVerificationError {
  return new TokenVerificationError(
    'invalid_dpop_proof',
    'invalid_dpop_proof',
    `DPoP proof refused: ${message}`,
    {
      cause,
    },
  );
}

/**
 * Checks DPoP proofs for one API: signature with the embedded public key, `typ`, `alg`, `htm`,
 * `htu`, `iat`, `ath`, single-use `jti`, and optionally a server nonce. In memory: several API
 * processes behind a balancer each keep their own replay cache, so a proof replayed to another
 * process inside the window passes there — keep `proofMaxAge` short.
 */
export class DpopChecker {
  readonly #rules: DpopRules;
  /** jti → second until which it stays remembered; Map keeps insertion order, oldest first. */
  readonly #seen = new Map<string, number>();
  readonly #nonceKey = randomBytes(32);

  constructor(rules: DpopRules) {
    this.#rules = rules;
  }

  /** The nonce to send in `DPoP-Nonce` now, or undefined when nonces are off. */
  currentNonce(now = Date.now()): string | undefined {
    if (this.#rules.nonceLifetime === 0) return undefined;
    return this.#nonceFor(Math.floor(now / 1000 / this.#rules.nonceLifetime));
  }

  /**
   * Verifies `request.proof` for `token` and returns the thumbprint of its key, which the caller
   * compares with the token's `cnf.jkt`, and `use()`, which spends the proof's `jti`. The caller
   * spends it only once the token is verified and bound to that key, so that proofs of keys that
   * hold no token cannot flood the replay cache and push out the `jti`s of real ones.
   */
  async check(
    request: DpopRequest,
    token: string,
    now = Date.now(),
  ): Promise<{ thumbprint: string; use: () => void }> {
    const proof = request.proof?.trim();
    if (proof === undefined || proof === '') throw invalidProof('no DPoP header with the request');
    if (proof.includes(',')) throw invalidProof('more than one DPoP header');
    const header = readHeader(proof, this.#rules.algorithms);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: [...this.#rules.algorithms],
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError) throw invalidProof(error.message, error);
      throw error;
    }
    this.#checkRequest(payload, request, token);
    const seconds = Math.floor(now / 1000);
    const iat = payload.iat;
    const window = this.#rules.proofMaxAge + this.#rules.clockTolerance;
    if (typeof iat !== 'number' || Math.abs(seconds - iat) > window)
      throw invalidProof(`iat must be within ${window} s of the server's clock`);
    this.#checkNonce(payload.nonce, now);
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 256)
      throw invalidProof('jti must be a non-empty string of at most 256 characters');
    const jti = payload.jti;
    // Refused now if already spent, and again (synchronously, so concurrent uses cannot both pass) in use().
    this.#refuseIfSeen(jti, seconds);
    return {
      thumbprint: await calculateJwkThumbprint(header.jwk as JWK, 'sha256'),
      use: () => this.#remember(jti, iat + window, Math.floor(Date.now() / 1000)),
    };
  }

  #refuseIfSeen(jti: string, now: number): void {
    const known = this.#seen.get(jti);
    if (known !== undefined && known >= now) throw invalidProof('this proof (its jti) was used before');
  }

  #checkRequest(payload: JWTPayload, request: DpopRequest, token: string): void {
    if (typeof payload.htm !== 'string' || payload.htm !== request.method.toUpperCase())
      throw invalidProof(`htm ${JSON.stringify(payload.htm)} is not this request's method ${request.method}`);
    if (typeof payload.htu !== 'string' || !URL.canParse(payload.htu))
      throw invalidProof('htu must be an absolute URL');
    if (normalizedHtu(payload.htu) !== normalizedHtu(request.url))
      throw invalidProof(`htu ${JSON.stringify(payload.htu)} is not this request's URL`);
    if (typeof payload.ath !== 'string' || !equalText(payload.ath, accessTokenHash(token)))
      throw invalidProof('ath is not the hash of the access token presented');
  }

  #checkNonce(nonce: unknown, now: number): void {
    if (this.#rules.nonceLifetime === 0) return;
    const slot = Math.floor(now / 1000 / this.#rules.nonceLifetime);
    const fresh =
      typeof nonce === 'string' &&
      (equalText(nonce, this.#nonceFor(slot)) || equalText(nonce, this.#nonceFor(slot - 1)));
    if (!fresh)
      throw new TokenVerificationError(
        'use_dpop_nonce',
        'use_dpop_nonce',
        nonce === undefined
          ? 'DPoP proof refused: this API requires a nonce; retry with the DPoP-Nonce it sent'
          : 'DPoP proof refused: the nonce is unknown or expired; retry with the DPoP-Nonce it sent',
        { dpopNonce: this.#nonceFor(slot) },
      );
  }

  /** Single use within the window (RFC 9449 §11.1): a jti seen before is a replay. */
  #remember(jti: string, until: number, now: number): void {
    this.#refuseIfSeen(jti, now);
    if (this.#seen.size >= this.#rules.replayCacheSize) {
      for (const [old, expires] of this.#seen) {
        if (expires < now) this.#seen.delete(old);
      }
      // Still full of live entries: forget the oldest, so memory stays bounded under a flood.
      while (this.#seen.size >= this.#rules.replayCacheSize) {
        const oldest = this.#seen.keys().next().value as string;
        this.#seen.delete(oldest);
      }
    }
    this.#seen.delete(jti);
    this.#seen.set(jti, until);
  }

  #nonceFor(slot: number): string {
    return createHmac('sha256', this.#nonceKey).update(String(slot)).digest('base64url');
  }
}

function readHeader(proof: string, algorithms: readonly string[]) {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch (error) {
    throw invalidProof('not a decodable JWT', error);
  }
  if (typeof header.alg !== 'string' || !algorithms.includes(header.alg))
    throw invalidProof(`alg ${JSON.stringify(header.alg)} is not one of ${algorithms.join(', ')}`);
  if (header.typ !== 'dpop+jwt') throw invalidProof('typ must be dpop+jwt');
  if (typeof header.jwk !== 'object' || header.jwk === null) throw invalidProof('no jwk in the header');
  return header;
}

/** RFC 9449 §4.3 item 9: compared without query and fragment, after RFC 3986 normalisation. */
export function normalizedHtu(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** RFC 9449 §4.2: base64url of the SHA-256 of the access token's ASCII. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

function equalText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
