import type { JWTPayload } from 'jose';
import { invalidToken } from './errors.ts';

/** RFC 8693 §4.1: the party acting on behalf of `sub`. */
export interface ActorClaim {
  sub: string;
  [claim: string]: unknown;
}

/** A verified access token's claims, typed; `payload` holds every claim as signed. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  jti: string;
  /** `client_id` */
  clientId: string;
  /** `scope`, split on spaces. */
  scope: string[];
  /** The caller's roles that this API accepts, in the resource's order. */
  roles: string[];
  /** The `roleClaim` value, when the verifier names a role claim and the token carries it. */
  role?: string;
  /** For user tokens: the connector the user signed in with. */
  idp?: string;
  act?: ActorClaim;
  payload: JWTPayload;
}

export interface ClaimRules {
  issuer: string;
  audience: string;
  /** Seconds. */
  clockTolerance: number;
  roleClaim: string | undefined;
  /** True when the request proved possession of a key (DPoP): then `cnf` is checked by the caller. */
  proofOfPossession?: boolean;
}

/** RFC 9068 §2.2: every access token names these. */
const REQUIRED_STRINGS = ['sub', 'jti', 'client_id'] as const;

/**
 * Checks the claims RFC 9068 requires and turns them into `AccessTokenClaims`. Run on the decoded
 * payload before the signature is checked, it only ever refuses (a forged token reaching here is
 * still refused by the signature check); run after, its result is what the caller gets.
 */
export function readAccessTokenClaims(
  payload: JWTPayload,
  rules: ClaimRules,
  now: number,
): AccessTokenClaims {
  const iss = requireString(payload, 'iss');
  if (iss !== rules.issuer)
    throw invalidToken(
      'wrong_issuer',
      `iss ${JSON.stringify(payload.iss)} is not the expected issuer ${JSON.stringify(rules.issuer)}`,
    );
  const aud = stringList(payload, 'aud');
  if (aud === undefined) throw invalidToken('missing_claim', 'claim "aud" is missing');
  if (!aud.includes(rules.audience))
    throw invalidToken(
      'wrong_audience',
      `aud ${JSON.stringify(payload.aud)} does not include this API ${JSON.stringify(rules.audience)}`,
    );
  const { exp, iat } = checkTimes(payload, rules.clockTolerance, now);
  // RFC 9449 §7.1 / RFC 8705 §3: a key-bound token needs a proof of possession a Bearer header lacks.
  if (payload.cnf !== undefined && rules.proofOfPossession !== true)
    throw invalidToken(
      'sender_constrained',
      'it is bound to a key (cnf); a Bearer presentation cannot prove possession',
    );
  for (const claim of REQUIRED_STRINGS) requireString(payload, claim);

  const claims: AccessTokenClaims = {
    iss,
    sub: payload.sub as string,
    aud,
    exp,
    iat,
    jti: payload.jti as string,
    clientId: payload.client_id as string,
    scope: scopeList(payload.scope),
    roles: stringList(payload, 'roles') ?? [],
    payload,
  };
  if (rules.roleClaim !== undefined) {
    const role = optionalString(payload, rules.roleClaim);
    if (role !== undefined) claims.role = role;
  }
  const idp = optionalString(payload, 'idp');
  if (idp !== undefined) claims.idp = idp;
  if (payload.act !== undefined) claims.act = actor(payload.act);
  return claims;
}

function checkTimes(payload: JWTPayload, tolerance: number, now: number): { exp: number; iat: number } {
  const exp = requireNumber(payload, 'exp');
  const iat = requireNumber(payload, 'iat');
  const nbf = payload.nbf === undefined ? undefined : requireNumber(payload, 'nbf');
  const clock = `now ${isoTime(now)}, leeway ${tolerance} s`;
  if (exp <= now - tolerance) throw invalidToken('expired', `it expired at ${isoTime(exp)} (exp; ${clock})`);
  if (nbf !== undefined && nbf > now + tolerance)
    throw invalidToken('not_yet_valid', `it is not valid before ${isoTime(nbf)} (nbf; ${clock})`);
  if (iat > now + tolerance)
    throw invalidToken(
      'not_yet_valid',
      `it claims to be issued in the future, at ${isoTime(iat)} (iat; ${clock})`,
    );
  return { exp, iat };
}

function requireString(payload: JWTPayload, claim: string): string {
  const value = payload[claim];
  if (value === undefined) throw invalidToken('missing_claim', `claim "${claim}" is missing`);
  if (typeof value !== 'string' || value === '')
    throw invalidToken('invalid_claim', `claim "${claim}" must be a non-empty string`);
  return value;
}

function optionalString(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  if (value !== undefined && typeof value !== 'string')
    throw invalidToken('invalid_claim', `claim "${claim}" must be a string`);
  return value;
}

function requireNumber(payload: JWTPayload, claim: string): number {
  const value = payload[claim];
  if (value === undefined) throw invalidToken('missing_claim', `claim "${claim}" is missing`);
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidToken('invalid_claim', `claim "${claim}" must be a number of seconds since the epoch`);
  return value;
}

/** A string or an array of strings (as `aud` may be), always returned as an array. */
function stringList(payload: JWTPayload, claim: string): string[] | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return [...value];
  throw invalidToken('invalid_claim', `claim "${claim}" must be a string or an array of strings`);
}

function scopeList(scope: unknown): string[] {
  if (scope === undefined) return [];
  if (typeof scope !== 'string')
    throw invalidToken('invalid_claim', 'claim "scope" must be a space-separated string');
  return scope.split(' ').filter((item) => item !== '');
}

/** Lock's tokens name at most this many actors (docs/tokens.md); a deeper chain is not Lock's. */
export const MAX_ACTORS = 4;

/** RFC 8693 §4.1: each actor an object with a string `sub`, the one before it nested as `act`. */
function actor(act: unknown): ActorClaim {
  let depth = 0;
  for (let current = act; current !== undefined; current = (current as { act?: unknown }).act) {
    if (
      typeof current !== 'object' ||
      current === null ||
      typeof (current as { sub?: unknown }).sub !== 'string'
    )
      throw invalidToken(
        'invalid_claim',
        'claim "act" and each actor nested in it must be an object with a string "sub"',
      );
    depth += 1;
    if (depth > MAX_ACTORS)
      throw invalidToken('invalid_claim', `claim "act" names more than ${MAX_ACTORS} actors`);
  }
  return act as ActorClaim;
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
