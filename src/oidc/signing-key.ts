import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import type { JWK } from 'jose';
import { ExternalSigningKey } from 'oidc-provider';

/** The digest node:crypto signs with for each JWS algorithm Lock offers (RFC 7518 §3.3, §3.4; RFC 8037). */
const DIGEST = { RS256: 'sha256', ES256: 'sha256', EdDSA: null } as const;
type SigningAlg = keyof typeof DIGEST;

/**
 * A signing key handed to oidc-provider as an `ExternalSigningKey` (its `externalSigningSupport`
 * feature): oidc-provider builds the JWS header and payload, Lock signs them with node:crypto.
 *
 * Why not the private JWK, as oidc-provider would take it: oidc-provider then signs through jose,
 * which uses WebCrypto — per signature an algorithm normalisation (WebIDL dictionaries), a key
 * check, a job on libuv's thread pool and a promise. node:crypto's asynchronous `sign` runs the
 * same OpenSSL call on the same thread pool with a fraction of that work around it: 35–70 µs of
 * CPU less per token (docs/performance.md, "Signing"). Signing synchronously on the event loop
 * was measured too, and cost more CPU per token than either, under load.
 *
 * Verifiers see the same JWS as before: oidc-provider's header and payload, signed by the same key
 * in the JWS form of the algorithm (for ES256 the r‖s pair, converted from node:crypto's DER).
 */
export class LockSigningKey extends ExternalSigningKey {
  readonly #kid: string;
  readonly #alg: SigningAlg;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #digest: (typeof DIGEST)[SigningAlg];
  readonly #rawEcdsa: boolean;

  constructor(privateJwk: JWK & { kid: string; alg: string }) {
    super();
    if (!(privateJwk.alg in DIGEST))
      throw new Error(`signing key ${privateJwk.kid}: unsupported alg ${privateJwk.alg}`);
    const alg = privateJwk.alg as SigningAlg;
    this.#kid = privateJwk.kid;
    this.#alg = alg;
    this.#privateKey = createPrivateKey({ key: privateJwk as never, format: 'jwk' });
    this.#publicKey = createPublicKey(this.#privateKey);
    this.#digest = DIGEST[alg];
    this.#rawEcdsa = alg === 'ES256';
  }

  override get kid(): string {
    return this.#kid;
  }

  override get alg(): string {
    return this.#alg;
  }

  override keyObject(): KeyObject {
    return this.#publicKey;
  }

  // The KeyObject itself, not `{ key, dsaEncoding }`: node:crypto tells a KeyObject from an options
  // object by catching a thrown TypeError, and an error's stack capture deep in a request's async
  // chain costs more than the signature (measured: +150 µs per ES256 token).
  override sign(data: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      sign(this.#digest, data, this.#privateKey, (error, signature) =>
        error ? reject(error) : resolve(this.#rawEcdsa ? ecdsaDerToJose(signature, 32) : signature),
      );
    });
  }
}

/**
 * An ECDSA signature as JWS wants it, the fixed-width r‖s pair (RFC 7518 §3.4), from the DER
 * `SEQUENCE { INTEGER r, INTEGER s }` node:crypto gives (RFC 3279 §2.2.3): each integer without
 * its sign byte, left-padded with zeros to the curve's size.
 */
export function ecdsaDerToJose(der: Uint8Array, size: number): Buffer {
  let at = 2;
  if (der[0] !== 0x30) throw new Error('not a DER ECDSA signature');
  if (der[1]! & 0x80) at += der[1]! & 0x7f; // long-form length (not for P-256's ≤ 72 bytes)
  const out = Buffer.alloc(2 * size);
  for (const offset of [0, size]) {
    if (der[at] !== 0x02) throw new Error('not a DER ECDSA signature');
    let length = der[at + 1]!;
    let start = at + 2;
    at = start + length;
    while (length > size && der[start] === 0) {
      start++;
      length--;
    }
    if (length > size) throw new Error('ECDSA signature integer too long for the curve');
    out.set(der.subarray(start, start + length), offset + size - length);
  }
  return out;
}
