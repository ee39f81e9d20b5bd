import { createHash, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export interface ProofClaims {
  htm: string;
  htu: string;
  /** The access token the proof goes with (its hash becomes `ath`). */
  accessToken?: string;
  nonce?: string;
  jti?: string;
  iat?: number;
}

/** A DPoP key pair of a test client (RFC 9449), signing proofs the way a real client does. */
export class DpopKey {
  readonly alg: string;
  readonly publicJwk: JWK;
  /** RFC 7638 SHA-256 thumbprint: the `cnf.jkt` a bound token carries. */
  readonly thumbprint: string;
  readonly #privateKey: CryptoKey;

  private constructor(alg: string, privateKey: CryptoKey, publicJwk: JWK, thumbprint: string) {
    this.alg = alg;
    this.#privateKey = privateKey;
    this.publicJwk = publicJwk;
    this.thumbprint = thumbprint;
  }

  static async generate(alg: 'ES256' | 'PS256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    return new DpopKey(alg, privateKey, jwk, await calculateJwkThumbprint(jwk));
  }

  proof(claims: ProofClaims): Promise<string> {
    return new SignJWT({
      htm: claims.htm,
      htu: claims.htu,
      jti: claims.jti ?? randomUUID(),
      ...(claims.accessToken !== undefined && {
        ath: createHash('sha256').update(claims.accessToken).digest('base64url'),
      }),
      ...(claims.nonce !== undefined && { nonce: claims.nonce }),
    })
      .setProtectedHeader({ alg: this.alg, typ: 'dpop+jwt', jwk: this.publicJwk })
      .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000))
      .sign(this.#privateKey);
  }
}

export interface TokenAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POST to a token endpoint with a DPoP proof; with `nonce` left out, no nonce is sent. */
export async function dpopTokenRequest(
  tokenEndpoint: string,
  form: Record<string, string>,
  key: DpopKey,
  options: { basic?: [string, string]; nonce?: string } = {},
): Promise<TokenAnswer> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    dpop: await key.proof({
      htm: 'POST',
      htu: tokenEndpoint,
      ...(options.nonce !== undefined && { nonce: options.nonce }),
    }),
  };
  if (options.basic)
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(options.basic[0])}:${encodeURIComponent(options.basic[1])}`).toString('base64')}`;
  const response = await fetch(tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as never };
}

/** As a client does: try, and on `use_dpop_nonce` retry once with the nonce the server sent. */
export async function dpopTokenWithNonce(
  tokenEndpoint: string,
  form: Record<string, string>,
  key: DpopKey,
  basic?: [string, string],
): Promise<TokenAnswer> {
  const first = await dpopTokenRequest(tokenEndpoint, form, key, basic ? { basic } : {});
  const nonce = first.headers.get('dpop-nonce');
  if (first.body.error !== 'use_dpop_nonce' || nonce === null) return first;
  return dpopTokenRequest(tokenEndpoint, form, key, { ...(basic && { basic }), nonce });
}
