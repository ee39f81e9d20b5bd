// What every passkey ceremony of Lock shares: the relying party (RP ID = the issuer's host, the one
// expected origin = the issuer's origin), the shape of what a browser sends back, the check of an
// assertion against a stored passkey, and the RFC 8176 methods a passkey stands for.
import type {
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
} from '@simplewebauthn/server';
import { z } from 'zod';
import type { StoredPasskey } from '../store/passkeys.ts';

let loading: Promise<typeof import('@simplewebauthn/server')> | undefined;

/**
 * @simplewebauthn/server, loaded on the first passkey ceremony rather than at start: with its
 * ASN.1, X.509 and CBOR libraries it is about 1 MB of code and 4 MiB of heap that a Lock whose
 * people never use a passkey would carry (and mark on every full GC) for nothing.
 */
export function simpleWebAuthn(): Promise<typeof import('@simplewebauthn/server')> {
  loading ??= import('@simplewebauthn/server');
  return loading;
}

/** How long a challenge may wait for its answer: WebAuthn's own default timeout, plus a margin. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** What the browser is told to wait for the person (WebAuthn `timeout`). */
export const CEREMONY_TIMEOUT_MS = 2 * 60_000;

export interface RelyingParty {
  /** The issuer's host name: passkeys are scoped to it. */
  id: string;
  /** The issuer's origin: the only one an answer may come from. */
  origin: string;
  name: string;
}

export function relyingPartyOf(issuer: string): RelyingParty {
  const url = new URL(issuer);
  return { id: url.hostname, origin: url.origin, name: 'Lock' };
}

const base64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url')
  .max(16_384);

/** navigator.credentials.get()'s answer as JSON (PublicKeyCredential.toJSON()). */
export const assertionSchema = z.object({
  id: base64url.min(1),
  rawId: base64url.min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url.min(1),
    authenticatorData: base64url.min(1),
    signature: base64url.min(1),
    userHandle: base64url.optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

/** navigator.credentials.create()'s answer as JSON. */
export const attestationSchema = z.object({
  id: base64url.min(1),
  rawId: base64url.min(1),
  type: z.literal('public-key'),
  response: z.object({
    clientDataJSON: base64url.min(1),
    attestationObject: base64url.min(1),
    transports: z.array(z.string().max(32)).max(10).optional(),
  }),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
});

export const asAssertion = (parsed: z.output<typeof assertionSchema>) =>
  parsed as unknown as AuthenticationResponseJSON;
export const asAttestation = (parsed: z.output<typeof attestationSchema>) =>
  parsed as unknown as RegistrationResponseJSON;

/** The challenge the browser signed over, as it wrote it into clientDataJSON; undefined if unreadable. */
export function presentedChallenge(clientDataJSON: string): string | undefined {
  try {
    // base64url-encoded JSON (WebAuthn §5.8.1): what @simplewebauthn's decodeClientDataJSON reads.
    const challenge = (
      JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as {
        challenge?: unknown;
      }
    ).challenge;
    return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= 512
      ? challenge
      : undefined;
  } catch {
    return undefined;
  }
}

export type AssertionCheck =
  | { ok: true; newCount: number; backedUp: boolean }
  | { ok: false; reason: string; clonedAuthenticator?: true };

/**
 * An assertion checked against a stored passkey: challenge, origin, RP ID, type, user presence
 * and verification, signature, and the sign count (which must move forward unless the
 * authenticator keeps none).
 */
export async function checkAssertion(
  rp: RelyingParty,
  passkey: StoredPasskey,
  response: AuthenticationResponseJSON,
  challenge: string,
): Promise<AssertionCheck> {
  const { verifyAuthenticationResponse } = await simpleWebAuthn();
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      expectedType: 'webauthn.get',
      requireUserVerification: true,
      // The counter is compared below, once the signature is known to be right: only then does a
      // counter that went backwards say something (a cloned authenticator), not a forgery.
      credential: {
        id: passkey.credentialId,
        publicKey: passkey.publicKey as Uint8Array<ArrayBuffer>,
        counter: 0,
        transports: passkey.transports as never,
      },
    });
  } catch (error) {
    return { ok: false, reason: `assertion refused: ${(error as Error).message}`.slice(0, 300) };
  }
  if (!verified.verified) return { ok: false, reason: 'assertion refused: bad signature' };
  const { newCounter, credentialBackedUp } = verified.authenticationInfo;
  if ((newCounter > 0 || passkey.signCount > 0) && newCounter <= passkey.signCount)
    return {
      ok: false,
      reason: `sign count went backwards (${newCounter} after ${passkey.signCount}): a cloned authenticator?`,
      clonedAuthenticator: true,
    };
  return { ok: true, newCount: newCounter, backedUp: credentialBackedUp };
}

/**
 * RFC 8176 methods of a passkey sign-in: `swk` for a key that may be synced between devices
 * (backup eligible: its private key is held in software by a passkey provider), `hwk` for a
 * device-bound one; `user` for the presence and verification the authenticator reported (it does
 * not say whether by PIN or biometric, so neither `pin` nor `fpt` is claimed). See docs/passkeys.md.
 */
export function passkeyAmr(passkey: Pick<StoredPasskey, 'backupEligible'>): string[] {
  return [passkey.backupEligible ? 'swk' : 'hwk', 'user'];
}

/** The methods that show a passkey took part (the requirePasskey policies look for one). */
export const PASSKEY_AMR = ['hwk', 'swk'] as const;
