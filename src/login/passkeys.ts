// Signing in with a passkey: as the first and only factor on the login page (a discoverable
// credential: the passkey names the account), or as the second factor after a password. Each
// ceremony's challenge is single-use, short-lived and bound to the interaction (and, for a second
// factor, to the account whose password was right); each assertion is reserved against the same
// brute-force budgets as a password post before it is looked at; every outcome is audited as
// `login.passkey`. Outcomes are values; the routes (src/interactions/passkey-routes.ts) render them.
import { randomBytes } from 'node:crypto';
import type { generateAuthenticationOptions } from '@simplewebauthn/server';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import type { ConnectorInfo, RefreshConnector } from '../connectors/connector.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { BruteForceGuard } from '../security/brute-force.ts';
import { recordIdentity } from '../store/identities.ts';
import {
  type ChallengePurpose,
  consumeChallenge,
  countPasskeys,
  findPasskeyByCredentialId,
  insertChallenge,
  listPasskeys,
  recordPasskeyUse,
  type StoredPasskey,
} from '../store/passkeys.ts';
import type { CodeOutcome, PendingSecondFactor, SecondFactor } from './second-factor.ts';
import { auditFields, type SignedIn, type SignInRequest } from './sign-in-request.ts';
import {
  asAssertion,
  assertionSchema,
  CEREMONY_TIMEOUT_MS,
  CHALLENGE_TTL_MS,
  checkAssertion,
  passkeyAmr,
  presentedChallenge,
  type RelyingParty,
  simpleWebAuthn,
} from './webauthn.ts';

export interface PasskeySignInOptions {
  pool: pg.Pool;
  rp: RelyingParty;
  bruteForce: BruteForceGuard;
  metrics: Metrics;
  secondFactor: SecondFactor;
  now: () => Date;
}

/** The local connector, which knows the accounts passkeys belong to (and whether they may sign in). */
export type LocalAccounts = ConnectorInfo & RefreshConnector;

/** Options for navigator.credentials.get(), as JSON. */
export type AssertionOptions = Awaited<ReturnType<typeof generateAuthenticationOptions>>;

// One message for every refused passkey: the page never tells which check failed.
export const PASSKEY_REFUSED =
  'That passkey could not sign you in. Try again, or sign in with your password.';

export type PasskeySignInOutcome =
  | { status: 'signed-in'; login: SignedIn }
  /** The browser sent something that is not an assertion (the field at fault named). */
  | { status: 'invalid'; message: string }
  | { status: 'failed'; message: string }
  /** This interaction has used its attempts: the person must start again. */
  | { status: 'interaction-spent' };

type Refusal = { ok: false; reason: string; clonedAuthenticator?: true };

export class PasskeySignIn {
  readonly #options: PasskeySignInOptions;

  constructor(options: PasskeySignInOptions) {
    this.#options = options;
  }

  /** A sign-in's options: any discoverable passkey of this RP, user verification required. */
  async signInOptions(request: SignInRequest): Promise<AssertionOptions> {
    return this.#assertionOptions(request, 'sign-in', undefined, []);
  }

  /** A second factor's options: only the passkeys of the account whose password was right. */
  async secondFactorOptions(request: SignInRequest, pending: PendingSecondFactor): Promise<AssertionOptions> {
    const passkeys = await listPasskeys(this.#options.pool, pending.userId);
    return this.#assertionOptions(request, 'second-factor', pending.userId, passkeys);
  }

  /** Whether the account has a passkey to offer in its second step. */
  async hasPasskey(userId: string): Promise<boolean> {
    return (await countPasskeys(this.#options.pool, userId)) > 0;
  }

  /**
   * Passwordless: the assertion names its passkey, the passkey its account. Counted for the
   * address and the interaction first, then for the account, before the signature is checked.
   */
  async signIn(request: SignInRequest, input: unknown, local: LocalAccounts): Promise<PasskeySignInOutcome> {
    const { pool, bruteForce, metrics } = this.#options;
    const parsed = assertionSchema.safeParse(input);
    if (!parsed.success) return { status: 'invalid', message: problemOf(parsed.error) };
    const response = asAssertion(parsed.data);
    const admission = await bruteForce.reserveAssertion({
      address: request.ip,
      interaction: request.interaction,
    });
    const audit = auditFields(request, '');
    if (!admission.admitted && admission.scope === 'interaction') {
      await recordAuditEvent(pool, {
        ...audit,
        type: 'login.locked_out',
        outcome: 'failure',
        reason: 'too many attempts in one sign-in',
      });
      metrics.logins.inc({ connector: 'none', outcome: 'locked_out' });
      return { status: 'interaction-spent' };
    }
    const refuse = async (
      refusal: Refusal,
      account?: { sub?: string; username: string; locked?: boolean },
    ) => {
      await recordAuditEvent(pool, {
        ...audit,
        subject: account?.username ?? '',
        type: account?.locked || !admission.admitted ? 'login.locked_out' : 'login.passkey',
        outcome: 'failure',
        reason: refusal.reason,
        connector: local.id,
        ...(account?.sub !== undefined && { actor: account.sub }),
        details: { factor: 'first', ...(refusal.clonedAuthenticator && { clonedAuthenticator: true }) },
      });
      metrics.logins.inc({ connector: local.id, outcome: account?.locked ? 'locked_out' : 'failed' });
      return { status: 'failed', message: PASSKEY_REFUSED } as const;
    };
    if (!admission.admitted)
      return refuse({ ok: false, reason: 'address locked out after repeated attempts' });

    // The challenge is spent by this attempt whatever follows: an assertion can be tried once.
    const challenge = await this.#consume(response.response.clientDataJSON, 'sign-in', request.interaction);
    if (!challenge) return refuse({ ok: false, reason: 'unknown, spent or expired challenge' });
    const passkey = await findPasskeyByCredentialId(pool, response.id);
    if (!passkey) return refuse({ ok: false, reason: 'no such passkey (unknown or removed)' });
    if (
      response.response.userHandle !== undefined &&
      response.response.userHandle !== userHandleOf(passkey.userId)
    )
      return refuse({ ok: false, reason: 'user handle does not match the passkey' });
    const identity = await local.refresh({ upstreamId: passkey.userId, username: '', groups: [] });
    if (!identity) return refuse({ ok: false, reason: 'account disabled or removed' });
    const account = { connector: local.id, upstreamId: passkey.userId, username: identity.username };
    const accountAdmission = await bruteForce.reserveAccount(account);
    if (!accountAdmission.admitted)
      return refuse(
        { ok: false, reason: 'account locked out after repeated attempts' },
        { username: identity.username, locked: true },
      );
    const checked = await this.#check(passkey, response, challenge);
    if (!checked.ok) return refuse(checked, { username: identity.username });

    const stored = await recordIdentity(pool, local.id, identity);
    await recordAuditEvent(pool, {
      ...audit,
      subject: identity.username,
      type: 'login.passkey',
      outcome: 'success',
      actor: stored.sub,
      connector: local.id,
      details: { factor: 'first', passkey: passkey.id, backupEligible: passkey.backupEligible },
    });
    await bruteForce.recordSuccess({ username: identity.username, account, address: request.ip });
    metrics.logins.inc({ connector: local.id, outcome: 'success' });
    return { status: 'signed-in', login: { accountId: stored.sub, amr: passkeyAmr(passkey) } };
  }

  /**
   * The second factor after a password: only a passkey of the account whose password was right,
   * counted against the account's and the step's budgets like a TOTP code (SecondFactor.verifyFactor).
   */
  async verifySecondFactor(
    request: SignInRequest,
    pending: PendingSecondFactor,
    input: unknown,
  ): Promise<CodeOutcome | { status: 'invalid'; message: string }> {
    const parsed = assertionSchema.safeParse(input);
    if (!parsed.success) return { status: 'invalid', message: problemOf(parsed.error) };
    const response = asAssertion(parsed.data);
    return this.#options.secondFactor.verifyFactor(request, pending, 'login.passkey', async () => {
      const challenge = await this.#consume(
        response.response.clientDataJSON,
        'second-factor',
        request.interaction,
        pending.userId,
      );
      if (!challenge) return { ok: false, reason: 'unknown, spent or expired challenge' };
      const passkey = await findPasskeyByCredentialId(this.#options.pool, response.id);
      if (!passkey) return { ok: false, reason: 'no such passkey (unknown or removed)' };
      if (passkey.userId !== pending.userId)
        return { ok: false, reason: "another account's passkey (not the account whose password was right)" };
      const checked = await this.#check(passkey, response, challenge);
      if (!checked.ok) return { ok: false, reason: checked.reason };
      return {
        ok: true,
        // RFC 8176: a password and a passkey are two factors.
        amr: ['pwd', ...passkeyAmr(passkey), 'mfa'],
        details: { factor: 'second', passkey: passkey.id, backupEligible: passkey.backupEligible },
      };
    });
  }

  async #assertionOptions(
    request: SignInRequest,
    purpose: ChallengePurpose,
    userId: string | undefined,
    passkeys: StoredPasskey[],
  ): Promise<AssertionOptions> {
    const { pool, rp, now } = this.#options;
    const bytes = randomBytes(32);
    // The browser writes the challenge back into clientDataJSON as this same base64url text.
    const challenge = bytes.toString('base64url');
    await insertChallenge(pool, {
      challenge,
      purpose,
      binding: request.interaction,
      ...(userId !== undefined && { userId }),
      expiresAt: new Date(now().getTime() + CHALLENGE_TTL_MS),
    });
    const { generateAuthenticationOptions } = await simpleWebAuthn();
    return generateAuthenticationOptions({
      rpID: rp.id,
      challenge: new Uint8Array(bytes),
      timeout: CEREMONY_TIMEOUT_MS,
      userVerification: 'required',
      allowCredentials: passkeys.map((passkey) => ({
        id: passkey.credentialId,
        transports: passkey.transports,
      })),
    });
  }

  /** Takes the challenge the browser signed over, if it was handed out for this ceremony and is unspent. */
  async #consume(
    clientDataJSON: string,
    purpose: ChallengePurpose,
    binding: string,
    userId?: string,
  ): Promise<string | undefined> {
    const presented = presentedChallenge(clientDataJSON);
    if (presented === undefined || !/^[A-Za-z0-9_-]{43}$/.test(presented)) return undefined;
    const taken = await consumeChallenge(
      this.#options.pool,
      { challenge: presented, purpose, binding, ...(userId !== undefined && { userId }) },
      this.#options.now(),
    );
    return taken && presented;
  }

  /** The assertion's checks, then the use recorded only if the counter still is what was checked. */
  async #check(
    passkey: StoredPasskey,
    response: ReturnType<typeof asAssertion>,
    challenge: string,
  ): Promise<{ ok: true } | Refusal> {
    const checked = await checkAssertion(this.#options.rp, passkey, response, challenge);
    if (!checked.ok) return checked;
    const recorded = await recordPasskeyUse(this.#options.pool, {
      id: passkey.id,
      seenCount: passkey.signCount,
      newCount: checked.newCount,
      backedUp: checked.backedUp,
      at: this.#options.now(),
    });
    return recorded ? { ok: true } : { ok: false, reason: 'passkey used or removed concurrently' };
  }
}

/** The WebAuthn user handle of an account: its id's bytes (no name, nothing personal). */
export const userHandleOf = (userId: string) =>
  Buffer.from(userId.replaceAll('-', ''), 'hex').toString('base64url');

function problemOf(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0]!;
  return `${['response', ...issue.path.map(String)].join('.')}: ${issue.message}`;
}
