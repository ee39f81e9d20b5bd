import { randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  SignJWT,
} from 'jose';

export const AUDIENCE = 'https://db-api.example.com';

export interface SigningKey {
  alg: 'RS256' | 'ES256' | 'EdDSA';
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** As a JWKS publishes it. */
  jwk: JWK;
}

export async function generateSigningKey(alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const exported = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(exported);
  return { alg, kid, privateKey, publicKey, jwk: { ...exported, kid, alg, use: 'sig' } };
}

/** The claims Lock puts in a client-credentials token for `AUDIENCE`, issued now for 5 minutes. */
export function accessTokenClaims(issuer: string, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer,
    sub: 'reporting-service',
    aud: AUDIENCE,
    client_id: 'reporting-service',
    jti: randomUUID(),
    scope: 'read write',
    roles: ['app_readwrite', 'app_readonly'],
    role: 'app_readwrite',
    iat: now,
    exp: now + 300,
    ...overrides,
  };
}

export interface SignOptions {
  claims?: JWTPayload;
  /** Merged over `{ alg, kid, typ: 'at+jwt' }`; a key set to undefined is left out. */
  header?: Partial<JWTHeaderParameters> & Record<string, unknown>;
  /** Extensions the signer claims to understand, for `crit`. */
  crit?: Record<string, boolean>;
}

export async function signAccessToken(
  key: SigningKey,
  issuer: string,
  options: SignOptions = {},
): Promise<string> {
  const header = withoutUndefined({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header });
  return new SignJWT(options.claims ?? accessTokenClaims(issuer))
    .setProtectedHeader(header as JWTHeaderParameters)
    .sign(key.privateKey, options.crit ? { crit: options.crit } : undefined);
}

/** RFC 8725 §2.1: an HS256 token whose HMAC secret is the RSA public key, as a verifier could read it. */
export async function signWithPublicKeyAsSecret(key: SigningKey, issuer: string): Promise<string> {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  return new SignJWT(accessTokenClaims(issuer))
    .setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'at+jwt' })
    .sign(secret);
}

/** An unsigned token (`alg: none`), which jose will not produce. */
export function unsignedToken(issuer: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'at+jwt' })}.${part(accessTokenClaims(issuer))}.`;
}

/** The token with its payload swapped for `claims`, keeping header and signature. */
export function withPayload(token: string, claims: JWTPayload): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
