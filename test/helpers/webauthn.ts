import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A WebAuthn authenticator in software (ES256, attestation `none`), written from the spec and not
 * from Lock's code: it answers registration and sign-in options as a browser plus a platform
 * authenticator would, and lets a test say what a real one never would (another origin or RP ID,
 * a counter that goes backwards, no user verification) to see Lock refuse it.
 */
export interface Credential {
  id: string;
  privateKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

export interface CeremonyOverrides {
  /** clientDataJSON's origin (default: the authenticator's origin). */
  origin?: string;
  /** The RP ID whose hash goes into authenticatorData (default: the options' rpId). */
  rpId?: string;
  /** The sign count to report (default: one more than the last). */
  counter?: number;
  userVerified?: boolean;
  /** Sign with this credential (default: the first for the RP ID that the options allow). */
  credentialId?: string;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64url = (data: Buffer | Uint8Array) => Buffer.from(data).toString('base64url');

export class SoftwareAuthenticator {
  readonly origin: string;
  readonly credentials: Credential[] = [];
  readonly #synced: boolean;
  readonly #aaguid: Buffer;

  /** `synced`: backup eligible and backed up (a passkey provider's synced key). */
  constructor(origin: string, options: { synced?: boolean; aaguid?: string } = {}) {
    this.origin = origin;
    this.#synced = options.synced ?? false;
    this.#aaguid = Buffer.from(
      (options.aaguid ?? '00000000-0000-0000-0000-000000000000').replaceAll('-', ''),
      'hex',
    );
  }

  /** Answers navigator.credentials.create() options (PublicKeyCredentialCreationOptionsJSON). */
  register(
    options: { challenge: string; rp: { id?: string }; user: { id: string } },
    overrides: CeremonyOverrides = {},
  ) {
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const cose = isoCBOR.encode(
      new Map<number, number | Uint8Array>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, new Uint8Array(Buffer.from(jwk.x!, 'base64url'))],
        [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))],
      ]),
    );
    const id = randomBytes(16);
    const credential: Credential = {
      id: b64url(id),
      privateKey,
      rpId,
      userHandle: options.user.id,
      counter: overrides.counter ?? 0,
    };
    this.credentials.push(credential);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    const authData = Buffer.concat([
      this.#authDataHead(rpId, credential.counter, overrides.userVerified ?? true, FLAG_AT),
      this.#aaguid,
      idLength,
      id,
      Buffer.from(cose),
    ]);
    const clientDataJSON = this.#clientData('webauthn.create', options.challenge, overrides.origin);
    const attestationObject = isoCBOR.encode(
      new Map<string, string | Map<string, string> | Uint8Array>([
        ['fmt', 'none'],
        ['attStmt', new Map<string, string>()],
        ['authData', new Uint8Array(authData)],
      ]),
    );
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        transports: ['internal'],
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }

  /** Answers navigator.credentials.get() options (PublicKeyCredentialRequestOptionsJSON). */
  assert(
    options: { challenge: string; rpId?: string; allowCredentials?: Array<{ id: string }> },
    overrides: CeremonyOverrides = {},
  ) {
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    const allowed = options.allowCredentials ?? [];
    const credential =
      overrides.credentialId !== undefined
        ? this.credentials.find((candidate) => candidate.id === overrides.credentialId)
        : this.credentials.find(
            (candidate) =>
              candidate.rpId === rpId &&
              (allowed.length === 0 || allowed.some((allow) => allow.id === candidate.id)),
          );
    if (!credential) throw new Error(`no credential for ${rpId}`);
    credential.counter = overrides.counter ?? credential.counter + 1;
    const authData = this.#authDataHead(
      overrides.rpId ?? credential.rpId,
      credential.counter,
      overrides.userVerified ?? true,
      0,
    );
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, overrides.origin);
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientDataJSON)]),
      credential.privateKey,
    );
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        userHandle: credential.userHandle,
      },
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
    };
  }

  #authDataHead(rpId: string, counter: number, userVerified: boolean, extraFlags: number): Buffer {
    const flags =
      FLAG_UP | (userVerified ? FLAG_UV : 0) | (this.#synced ? FLAG_BE | FLAG_BS : 0) | extraFlags;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }

  #clientData(type: string, challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }
}
