// The second step of a local account's sign-in: after the right password, a TOTP code (or a
// recovery code), or first the enrolment of an authenticator app. The state between the steps
// lives in PostgreSQL, keyed by the interaction and bound to the account whose password was right,
// so any Lock process can serve the next page and no later request can change whose sign-in it is:
// every change of the step is conditional on the interaction, the account and the stage it saw.
// Pages and redirects are the interaction routes' (src/interactions/second-factor-routes.ts).
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import type { ConnectorInfo, UpstreamIdentity } from '../connectors/connector.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { BruteForceGuard } from '../security/brute-force.ts';
import type { SecretBox } from '../security/secret-box.ts';
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchingTotpSteps,
  otpauthUri,
  parseRecoveryCode,
  parseTotpCode,
  totpSecretContext,
} from '../security/totp.ts';
import { countPasskeys } from '../store/passkeys.ts';
import { tx } from '../store/pool.ts';
import {
  acceptTotpStep,
  advancePendingStage,
  consumePendingSecondFactor,
  countUnusedRecoveryCodes,
  findPendingSecondFactor,
  findTotpCredential,
  insertTotpCredential,
  type PendingKey,
  type PendingSecondFactor,
  replaceRecoveryCodes,
  reservePendingAttempt,
  startPendingSecondFactor,
  useRecoveryCode,
} from '../store/totp.ts';
import { auditFields, type SignedIn, type SignInRequest } from './sign-in-request.ts';

export type { PendingSecondFactor } from '../store/totp.ts';

/** What Lock's configuration decides about second factors, and what the step works with. */
export interface SecondFactorOptions {
  pool: pg.Pool;
  box: SecretBox;
  bruteForce: BruteForceGuard;
  metrics: Metrics;
  /** Local accounts holding one of these roles must use TOTP, enrolling at their next sign-in. */
  requiredRoles: readonly string[];
  /** Whether a client requires a second factor of everyone signing in to it (`requireMfa`). */
  clientRequiresMfa: (clientId: string) => boolean;
  /** Local accounts holding one of these roles must finish with a passkey (LOCK_PASSKEY_REQUIRED_ROLES). */
  passkeyRequiredRoles?: readonly string[];
  /** Whether a client requires a passkey of everyone signing in to it (`requirePasskey`). */
  clientRequiresPasskey?: (clientId: string) => boolean;
  now: () => Date;
}

/** How long a sign-in may wait between its password and its second factor (enrolment included). */
const PENDING_TTL_MS = 15 * 60_000;
/** Wrong codes one sign-in may try before its password must be typed again. */
const MAX_CODE_FAILURES = 5;
/** RFC 8176: a password, then a one-time password (an app code or a recovery code). */
const AMR_WITH_OTP = ['pwd', 'otp'];

/**
 * After the right password: no step needed, a step started, or another password's step already
 * waits; `passkey-missing` when a passkey is required of this sign-in and the account has none.
 */
export type SecondFactorStart = 'not-required' | 'started' | 'another-waiting' | 'passkey-missing';

/** The step ended or changed meanwhile (another request of this interaction): start again from it. */
type StepEnded = { status: 'step-ended' };

export type CodeOutcome =
  | { status: 'signed-in'; login: SignedIn }
  | StepEnded
  /** Wrong, replayed or refused by a lockout: all read the same. */
  | { status: 'wrong-code' }
  /** The sign-in's codes are spent: the step is over, the password must be typed again. */
  | { status: 'too-many-codes' };

export type EnrolmentOutcome =
  /** The step now shows these recovery codes, once. */
  | { status: 'enrolled'; pending: PendingSecondFactor; recoveryCodes: string[] }
  /** Another sign-in of this account enrolled first: the step now asks for a code of that app. */
  | { status: 'enrolled-elsewhere'; pending: PendingSecondFactor }
  | { status: 'wrong-code' }
  /** The step changed meanwhile: show it as it is now. */
  | { status: 'step-changed' };

type CodeCheck = { ok: true; method: 'totp' | 'recovery_code' } | { ok: false; reason: string };

/**
 * What a second factor's own check found (a TOTP code, a passkey assertion): on success the RFC 8176
 * methods of the whole sign-in and the audit event's details.
 */
export type FactorCheck =
  | { ok: true; amr: string[]; details?: Record<string, unknown> }
  | { ok: false; reason: string };

/** The row's identity for a conditional change: this interaction, this account, the stage seen. */
const keyOf = (pending: PendingSecondFactor): PendingKey => ({
  interactionUid: pending.interactionUid,
  userId: pending.userId,
  sub: pending.sub,
  stage: pending.stage,
});

const accountOf = (pending: PendingSecondFactor) => ({
  connector: pending.connector,
  upstreamId: pending.userId,
  username: pending.username,
});

const auditOf = (request: SignInRequest, pending: PendingSecondFactor) => ({
  ...auditFields(request, pending.username),
  connector: pending.connector,
});

/** A change of the step raced with another request of the interaction and lost: nothing is kept. */
class PendingChanged extends Error {
  override name = 'PendingChanged';
}

export class SecondFactor {
  readonly #options: SecondFactorOptions;

  constructor(options: SecondFactorOptions) {
    this.#options = options;
  }

  /**
   * After the right password: when the account must use a second factor, starts that step, bound
   * to this interaction and this account. Only one step per interaction: when another password's
   * step got there first (two posts racing), that one stays and this password finishes nothing.
   */
  async begin(
    request: SignInRequest,
    login: { connector: ConnectorInfo; identity: UpstreamIdentity; sub: string },
  ): Promise<SecondFactorStart> {
    const { pool, box } = this.#options;
    if (login.connector.type !== 'local') return 'not-required';
    const userId = login.identity.upstreamId;
    const roles = login.identity.roles ?? [];
    const totpEnrolled = (await findTotpCredential(pool, userId)) !== undefined;
    const passkeys = await countPasskeys(pool, userId);
    const passkeyOnly =
      (this.#options.clientRequiresPasskey?.(request.clientId) ?? false) ||
      roles.some((role) => this.#options.passkeyRequiredRoles?.includes(role));
    // Passkeys are registered on /account, never in the middle of a sign-in.
    if (passkeyOnly && passkeys === 0) return 'passkey-missing';
    // An account with a second factor of its own (an app or a passkey) always uses it.
    const enrolled = totpEnrolled || passkeys > 0;
    const required =
      enrolled ||
      passkeyOnly ||
      this.#options.clientRequiresMfa(request.clientId) ||
      roles.some((role) => this.#options.requiredRoles.includes(role));
    if (!required) return 'not-required';
    const now = this.#options.now();
    const started = await startPendingSecondFactor(
      pool,
      {
        interactionUid: request.interaction,
        userId,
        sub: login.sub,
        connector: login.connector.id,
        username: login.identity.username,
        stage: enrolled ? 'verify' : 'enrol',
        ...(!enrolled && { enrolSecretSealed: box.seal(generateTotpSecret(), totpSecretContext(userId)) }),
        passkeyOnly,
        expiresAt: new Date(now.getTime() + PENDING_TTL_MS),
      },
      now,
    );
    return started ? 'started' : 'another-waiting';
  }

  /** The step waiting in this interaction, if any (while one waits, no password is taken). */
  waiting(interaction: string): Promise<PendingSecondFactor | undefined> {
    return findPendingSecondFactor(this.#options.pool, interaction, this.#options.now());
  }

  /** Whether the account has an authenticator app (else its step is a passkey's). */
  async hasAuthenticatorApp(userId: string): Promise<boolean> {
    return (await findTotpCredential(this.#options.pool, userId)) !== undefined;
  }

  /** The secret an enrolling person types into their app, and its otpauth:// URI (for the QR code). */
  enrolment(pending: PendingSecondFactor): { secret: string; otpauthUri: string } {
    const secret = this.#options.box.open(pending.enrolSecretSealed!, totpSecretContext(pending.userId));
    return { secret, otpauthUri: otpauthUri(secret, pending.username) };
  }

  /** A code (app or recovery) for an enrolled account: its attempts are reserved before it is looked at. */
  async verify(request: SignInRequest, pending: PendingSecondFactor, input: string): Promise<CodeOutcome> {
    return this.verifyFactor(request, pending, 'login.totp', async () => {
      // A sign-in that must end with a passkey takes no code (not even a right one).
      if (pending.passkeyOnly) return { ok: false, reason: 'a passkey is required: codes are not taken' };
      const check = await this.#checkCode(pending.userId, input);
      if (!check.ok) return check;
      return {
        ok: true,
        amr: AMR_WITH_OTP,
        details: {
          method: check.method,
          ...(check.method === 'recovery_code' && {
            recoveryCodesLeft: await countUnusedRecoveryCodes(this.#options.pool, pending.userId),
          }),
        },
      };
    });
  }

  /**
   * One attempt at the step's second factor, whichever it is (`check`: a code, a passkey): the
   * account's and the step's budgets are reserved before `check` runs, the outcome is audited as
   * `auditType`, and a success ends the step with the methods `check` names.
   */
  async verifyFactor(
    request: SignInRequest,
    pending: PendingSecondFactor,
    auditType: string,
    check: () => Promise<FactorCheck>,
  ): Promise<CodeOutcome> {
    const { pool, bruteForce, metrics } = this.#options;
    // Reserved before the code is looked at, so concurrent guesses cannot outrun the budget.
    const lockout = await bruteForce.reserveForAccount({
      username: pending.username,
      address: request.ip,
      account: accountOf(pending),
    });
    const locked = !lockout.admitted;
    // The step's own budget is reserved first too: the attempt that passes it is the last one checked.
    const attempts = await reservePendingAttempt(pool, keyOf(pending));
    if (attempts === undefined) return { status: 'step-ended' };
    // A locked-out account is told what a wrong code is told, and its code is not even looked at.
    const checked: FactorCheck = !lockout.admitted
      ? { ok: false, reason: `${lockout.scope} locked out after repeated attempts` }
      : attempts > MAX_CODE_FAILURES
        ? { ok: false, reason: 'too many codes tried in this sign-in' }
        : await check();
    const audit = auditOf(request, pending);
    if (checked.ok) {
      await recordAuditEvent(pool, {
        ...audit,
        type: auditType,
        outcome: 'success',
        actor: pending.sub,
        ...(checked.details && { details: checked.details }),
      });
      return this.complete(request, pending, checked.amr);
    }
    await recordAuditEvent(pool, {
      ...audit,
      type: locked ? 'login.locked_out' : auditType,
      outcome: 'failure',
      reason: checked.reason,
    });
    metrics.logins.inc({ connector: pending.connector, outcome: locked ? 'locked_out' : 'failed' });
    if (attempts >= MAX_CODE_FAILURES) {
      await consumePendingSecondFactor(pool, keyOf(pending), this.#options.now());
      return { status: 'too-many-codes' };
    }
    return { status: 'wrong-code' };
  }

  /**
   * The first code of a new authenticator: stores it and shows recovery codes, in one transaction
   * that keeps nothing unless the step is still this account's enrolment in this interaction.
   */
  async confirmEnrolment(
    request: SignInRequest,
    pending: PendingSecondFactor,
    input: string,
  ): Promise<EnrolmentOutcome> {
    const { pool, box, now } = this.#options;
    const sealed = pending.enrolSecretSealed!;
    const code = parseTotpCode(input);
    const steps =
      code === undefined
        ? []
        : matchingTotpSteps(box.open(sealed, totpSecretContext(pending.userId)), code, now());
    const audit = auditOf(request, pending);
    if (steps.length === 0) {
      // Not a brute-force failure: whoever is here was shown the secret; a typo must not lock them out.
      await recordAuditEvent(pool, {
        ...audit,
        type: 'login.totp_enrol',
        outcome: 'failure',
        reason: code === undefined ? 'not a code' : 'wrong code',
      });
      return { status: 'wrong-code' };
    }
    const recoveryCodes = generateRecoveryCodes();
    const key = keyOf(pending);
    const outcome = await tx(pool, async (db) => {
      const inserted = await insertTotpCredential(db, {
        userId: pending.userId,
        secretSealed: sealed,
        lastUsedStep: steps[0]!,
        confirmedAt: now(),
      });
      if (!inserted) return 'enrolled elsewhere' as const;
      // Still this account's enrolment in this interaction? Otherwise nothing of it is kept.
      if (!(await advancePendingStage(db, key, 'recovery-codes'))) throw new PendingChanged();
      await replaceRecoveryCodes(
        db,
        pending.userId,
        recoveryCodes.map((recovery) => hashRecoveryCode(pending.userId, recovery)),
      );
      await recordAuditEvent(db, {
        ...audit,
        type: 'login.totp_enrol',
        outcome: 'success',
        actor: pending.sub,
      });
      return 'enrolled' as const;
    }).catch((error: unknown) => {
      if (error instanceof PendingChanged) return 'step changed' as const;
      throw error;
    });
    if (outcome === 'step changed') return { status: 'step-changed' };
    if (outcome === 'enrolled elsewhere') {
      // Another sign-in of this account enrolled first: that authenticator is the one to use.
      if (!(await advancePendingStage(pool, key, 'verify'))) return { status: 'step-changed' };
      return { status: 'enrolled-elsewhere', pending: { ...pending, stage: 'verify' } };
    }
    return { status: 'enrolled', pending: { ...pending, stage: 'recovery-codes' }, recoveryCodes };
  }

  /**
   * Ends the step with a signed-in account. Only one of two racing submissions consumes the row,
   * and only while it still holds the account and stage this request checked: the account signed
   * in is the one consumed.
   */
  async complete(
    request: SignInRequest,
    seen: PendingSecondFactor,
    amr: string[] = AMR_WITH_OTP,
  ): Promise<{ status: 'signed-in'; login: SignedIn } | StepEnded> {
    const pending = await consumePendingSecondFactor(this.#options.pool, keyOf(seen), this.#options.now());
    if (!pending) return { status: 'step-ended' };
    await this.#options.bruteForce.recordSuccess({
      username: pending.username,
      account: accountOf(pending),
      address: request.ip,
    });
    this.#options.metrics.logins.inc({ connector: pending.connector, outcome: 'success' });
    return { status: 'signed-in', login: { accountId: pending.sub, amr } };
  }

  /** "Sign in as someone else": ends the waiting step, so that the login form takes a password again. */
  async cancel(pending: PendingSecondFactor): Promise<void> {
    await consumePendingSecondFactor(this.#options.pool, keyOf(pending), this.#options.now());
  }

  async #checkCode(userId: string, input: string): Promise<CodeCheck> {
    const { pool, box } = this.#options;
    const now = this.#options.now();
    const code = parseTotpCode(input);
    if (code !== undefined) {
      const credential = await findTotpCredential(pool, userId);
      if (!credential) return { ok: false, reason: 'no authenticator enrolled (reset during the sign-in)' };
      const secret = box.open(credential.secretSealed, totpSecretContext(userId));
      const steps = matchingTotpSteps(secret, code, now);
      if (steps.length === 0) return { ok: false, reason: 'wrong code' };
      const fresh = steps.filter((step) => step > credential.lastUsedStep);
      if (fresh.length === 0 || !(await acceptTotpStep(pool, userId, fresh[0]!)))
        return { ok: false, reason: 'code of an already used time step (replay)' };
      return { ok: true, method: 'totp' };
    }
    const recovery = parseRecoveryCode(input);
    if (recovery !== undefined)
      return (await useRecoveryCode(pool, userId, hashRecoveryCode(userId, recovery), now))
        ? { ok: true, method: 'recovery_code' }
        : { ok: false, reason: 'unknown or already used recovery code' };
    return { ok: false, reason: 'not a code' };
  }
}
