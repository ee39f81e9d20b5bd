// A person's own passkeys: registering one (the ceremony's challenge bound to their account
// session), renaming and removing them. Every change is audited (`account.passkey.*`). The account
// page (src/interactions/) checks the session and the recent authentication; this module the rest.
import { randomBytes } from 'node:crypto';
import type { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import {
  consumeChallenge,
  deletePasskey,
  insertChallenge,
  insertPasskey,
  listPasskeys,
  renamePasskey,
  type StoredPasskey,
} from '../store/passkeys.ts';
import { userHandleOf } from './passkeys.ts';
import {
  asAttestation,
  attestationSchema,
  CEREMONY_TIMEOUT_MS,
  CHALLENGE_TTL_MS,
  presentedChallenge,
  type RelyingParty,
  simpleWebAuthn,
} from './webauthn.ts';

export interface PasskeyRegistrationOptions {
  pool: pg.Pool;
  rp: RelyingParty;
  /** AAGUIDs (lower-case, with dashes) of the authenticator models allowed; empty: any. */
  aaguidAllowlist: readonly string[];
  now: () => Date;
  /** After a passkey was added and audited (the composition root sends the security notice). */
  onAdded?: (owner: PasskeyOwner, passkey: StoredPasskey) => Promise<void>;
}

/** Whose passkeys, from which session and request: for the challenge's binding and the audit. */
export interface PasskeyOwner {
  userId: string;
  username: string;
  /** The account's `sub` (the audit event's actor). */
  sub: string;
  /** The account session the registration's challenge is bound to. */
  session: string;
  ip: string;
  userAgent: string;
  requestId: string;
}

export type RegistrationOptionsJSON = Awaited<ReturnType<typeof generateRegistrationOptions>>;

export type RegistrationOutcome =
  | { status: 'added'; passkey: StoredPasskey }
  /** Not an attestation at all, or a name that cannot be one (the field named). */
  | { status: 'invalid'; message: string }
  /** The ceremony failed its checks (`message` is for the person, the reason went to the audit). */
  | { status: 'refused'; message: string };

export const PASSKEY_NAME_MAX = 100;

export function parsePasskeyName(input: unknown): string | undefined {
  if (typeof input !== 'string') return undefined;
  const name = input.normalize('NFC').trim();
  return name.length > 0 && name.length <= PASSKEY_NAME_MAX && !/\p{Cc}/u.test(name) ? name : undefined;
}

const REFUSED = 'This passkey could not be added. Try again.';

export class PasskeyRegistration {
  readonly #options: PasskeyRegistrationOptions;

  constructor(options: PasskeyRegistrationOptions) {
    this.#options = options;
  }

  list(userId: string): Promise<StoredPasskey[]> {
    return listPasskeys(this.#options.pool, userId);
  }

  /**
   * Options for navigator.credentials.create(): a discoverable credential (resident key), user
   * verification required, the account's passkeys excluded (no second registration of one).
   * Attestation `none` unless an AAGUID allowlist needs the authenticator to say what it is.
   */
  async options(account: PasskeyOwner): Promise<RegistrationOptionsJSON> {
    const { pool, rp, now, aaguidAllowlist } = this.#options;
    const bytes = randomBytes(32);
    await insertChallenge(pool, {
      challenge: bytes.toString('base64url'),
      purpose: 'registration',
      binding: account.session,
      userId: account.userId,
      expiresAt: new Date(now().getTime() + CHALLENGE_TTL_MS),
    });
    const existing = await listPasskeys(pool, account.userId);
    const { generateRegistrationOptions } = await simpleWebAuthn();
    return generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: account.username,
      userID: new Uint8Array(Buffer.from(userHandleOf(account.userId), 'base64url')),
      challenge: new Uint8Array(bytes),
      timeout: CEREMONY_TIMEOUT_MS,
      attestationType: aaguidAllowlist.length > 0 ? 'direct' : 'none',
      excludeCredentials: existing.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  /** The browser's answer to `options`: checked, then stored under `name`. */
  async register(
    account: PasskeyOwner,
    input: { name: unknown; response: unknown },
  ): Promise<RegistrationOutcome> {
    const { pool, rp, now, aaguidAllowlist } = this.#options;
    const name = parsePasskeyName(input.name);
    if (name === undefined)
      return { status: 'invalid', message: `name: 1 to ${PASSKEY_NAME_MAX} characters` };
    const parsed = attestationSchema.safeParse(input.response);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return {
        status: 'invalid',
        message: `${['response', ...issue.path.map(String)].join('.')}: ${issue.message}`,
      };
    }
    const response = asAttestation(parsed.data);
    const refuse = async (reason: string): Promise<RegistrationOutcome> => {
      await this.#audit(account, {
        type: 'account.passkey.added',
        outcome: 'failure',
        reason,
        details: { name },
      });
      return { status: 'refused', message: REFUSED };
    };
    const presented = presentedChallenge(response.response.clientDataJSON);
    const taken =
      presented !== undefined &&
      (await consumeChallenge(
        pool,
        { challenge: presented, purpose: 'registration', binding: account.session, userId: account.userId },
        now(),
      ));
    if (!taken) return refuse('unknown, spent or expired challenge');
    const { verifyRegistrationResponse } = await simpleWebAuthn();
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: presented,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        expectedType: 'webauthn.create',
        requireUserVerification: true,
      });
    } catch (error) {
      return refuse(`attestation refused: ${(error as Error).message}`.slice(0, 300));
    }
    if (!verified.verified) return refuse('attestation refused');
    const info = verified.registrationInfo;
    if (aaguidAllowlist.length > 0 && !aaguidAllowlist.includes(info.aaguid.toLowerCase()))
      return refuse(`authenticator model ${info.aaguid} is not in LOCK_PASSKEY_AAGUIDS`);
    const passkey = await insertPasskey(pool, {
      userId: account.userId,
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      signCount: info.credential.counter,
      transports: response.response.transports ?? [],
      aaguid: info.aaguid.toLowerCase(),
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backedUp: info.credentialBackedUp,
      name,
    });
    if (!passkey) return refuse('credential id registered already');
    await this.#audit(account, {
      type: 'account.passkey.added',
      outcome: 'success',
      details: { passkey: passkey.id, name, aaguid: passkey.aaguid, backupEligible: passkey.backupEligible },
    });
    await this.#options.onAdded?.(account, passkey);
    return { status: 'added', passkey };
  }

  /** Renames one of the account's passkeys; false when it has none with that id (or the name is no name). */
  async rename(account: PasskeyOwner, id: string, input: unknown): Promise<boolean> {
    const name = parsePasskeyName(input);
    if (name === undefined || !isUuid(id)) return false;
    if (!(await renamePasskey(this.#options.pool, account.userId, id, name))) return false;
    await this.#audit(account, {
      type: 'account.passkey.renamed',
      outcome: 'success',
      details: { passkey: id, name },
    });
    return true;
  }

  /** Removes one of the account's passkeys: it signs nobody in from now on. */
  async remove(account: PasskeyOwner, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const removed = await deletePasskey(this.#options.pool, account.userId, id);
    if (!removed) return false;
    await this.#audit(account, {
      type: 'account.passkey.removed',
      outcome: 'success',
      details: { passkey: id, name: removed.name },
    });
    return true;
  }

  async #audit(
    account: PasskeyOwner,
    event: {
      type: string;
      outcome: 'success' | 'failure';
      reason?: string;
      details?: Record<string, unknown>;
    },
  ): Promise<void> {
    const { type, outcome, ...extra } = event;
    await recordAuditEvent(this.#options.pool, {
      type,
      outcome,
      actor: account.sub,
      subject: account.username,
      connector: 'local',
      ip: account.ip,
      userAgent: account.userAgent,
      requestId: account.requestId,
      ...(extra.reason !== undefined && { reason: extra.reason }),
      ...(extra.details && { details: extra.details }),
    });
  }
}

const isUuid = (value: string) =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
