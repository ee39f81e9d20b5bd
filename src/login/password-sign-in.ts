// One password post of the login form, under attack as in normal use: the attempt is reserved
// before anything is verified, every alias of an account draws on its one budget, and every
// failure costs the same work (one argon2 verify in all), whichever connectors ran and whatever
// they said. The outcome is audited and counted here, and a right password hands over to the
// second factor when the account needs one; the route only renders or redirects (interactions/routes.ts).
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import {
  type PasswordAttempt,
  type PasswordConnector,
  type PasswordLoginResult,
  UpstreamError,
  type UpstreamIdentity,
} from '../connectors/connector.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { AttemptScope, BruteForceGuard } from '../security/brute-force.ts';
import { PasswordVerifyBusy, type PasswordVerifyGate } from '../security/passwords.ts';
import { recordIdentity } from '../store/identities.ts';
import type { SecondFactor } from './second-factor.ts';
import { auditFields, type SignedIn, type SignInRequest } from './sign-in-request.ts';

// One message for a wrong password, an unknown user and a lockout: the page never tells which.
// Messages are keys of the catalogue (views/locales/en.json): the page shows them in its language.
export const WRONG_CREDENTIALS = 'login.errors.invalid_credentials';
export const PASSKEY_REQUIRED = 'passkey.errors.required';
const UPSTREAM_DOWN = 'login.errors.unavailable';

export interface PasswordSignInOptions {
  pool: pg.Pool;
  bruteForce: BruteForceGuard;
  /** The bound on concurrent argon2 verifies of this process (LOCK_PASSWORD_VERIFY_*). */
  verifier: PasswordVerifyGate;
  metrics: Metrics;
  secondFactor: SecondFactor;
}

/** One post of the login form: the connectors to try, in order, and what the person typed. */
export interface PasswordPost {
  connectors: PasswordConnector[];
  username: string;
  /** Verified exactly as typed. */
  password: string;
  /** The request's logger: a connector that is down is logged, never the password. */
  log: Logger;
}

export type PasswordPostOutcome =
  | { status: 'signed-in'; login: SignedIn }
  /** The account must use a second factor: its step now waits in this interaction. */
  | { status: 'second-factor' }
  /** Another password of this interaction started its second factor first (two posts racing). */
  | { status: 'another-second-factor-waiting' }
  /** The client or a role requires a passkey, and the account has none (registered on /account); `message` a catalogue key. */
  | { status: 'passkey-required'; message: string }
  /**
   * `message` is what the person is shown (the same for a wrong password, an unknown user and a
   * lockout): a key of the message catalogue (views/locales/en.json, `login.errors.*`).
   */
  | { status: 'failed' | 'unavailable'; message: string }
  /** This interaction has used its password posts: the person must start again. */
  | { status: 'interaction-spent' }
  /** The verifier's queue is full: retry after `retryAfterSeconds`; nothing was counted or checked. */
  | { status: 'busy'; retryAfterSeconds: number };

/** Password sign-in: the check, its audit and metrics, the account's identity, the hand-over to a second factor. */
export class PasswordSignIn {
  readonly #options: PasswordSignInOptions;

  constructor(options: PasswordSignInOptions) {
    this.#options = options;
  }

  async signIn(request: SignInRequest, post: PasswordPost): Promise<PasswordPostOutcome> {
    const { pool, bruteForce, metrics, secondFactor } = this.#options;
    const outcome = await checkPassword({
      connectors: post.connectors,
      username: post.username,
      password: post.password,
      address: request.ip,
      interaction: request.interaction,
      bruteForce,
      verifier: this.#options.verifier,
      onUpstreamError: (connector, error) =>
        post.log.warn({ connector: connector.id, err: { message: error.message } }, 'connector unavailable'),
    });
    const audit = auditFields(request, post.username);
    if (outcome.status === 'busy') {
      metrics.logins.inc({ connector: 'none', outcome: 'busy' });
      return outcome;
    }
    if (outcome.status === 'interaction-spent') {
      await recordAuditEvent(pool, {
        ...audit,
        type: 'login.locked_out',
        outcome: 'failure',
        reason: 'too many attempts in one sign-in',
      });
      metrics.logins.inc({ connector: 'none', outcome: 'locked_out' });
      return outcome;
    }
    if (outcome.status !== 'authenticated') {
      await recordAuditEvent(pool, {
        ...audit,
        type: outcome.lockedOut ? 'login.locked_out' : 'login.password',
        outcome: outcome.status === 'unavailable' ? 'error' : 'failure',
        reason: outcome.reason,
        ...(outcome.connector && { connector: outcome.connector }),
      });
      metrics.logins.inc({
        connector: outcome.connector ?? 'none',
        outcome: outcome.lockedOut ? 'locked_out' : outcome.status,
      });
      return { status: outcome.status, message: outcome.message };
    }
    const identity = await recordIdentity(pool, outcome.connector.id, outcome.identity);
    await recordAuditEvent(pool, {
      ...audit,
      type: 'login.password',
      outcome: 'success',
      actor: identity.sub,
      connector: outcome.connector.id,
    });
    const success = {
      username: post.username,
      account: {
        connector: outcome.connector.id,
        upstreamId: outcome.identity.upstreamId,
        username: outcome.identity.username,
      },
      address: request.ip,
    };
    const step = await secondFactor.begin(request, { ...outcome, sub: identity.sub });
    if (step === 'passkey-missing') {
      await bruteForce.releaseAttempt(success);
      await recordAuditEvent(pool, {
        ...audit,
        type: 'login.passkey',
        outcome: 'failure',
        actor: identity.sub,
        connector: outcome.connector.id,
        reason: 'a passkey is required and the account has none',
      });
      metrics.logins.inc({ connector: outcome.connector.id, outcome: 'failed' });
      return { status: 'passkey-required', message: PASSKEY_REQUIRED };
    }
    // The right password gives its attempt back; the account's count is forgotten only once the
    // second factor, if any, is right too. A password that lost the race to another's step
    // finishes nothing either.
    if (step !== 'not-required') {
      await bruteForce.releaseAttempt(success);
      return { status: step === 'started' ? 'second-factor' : 'another-second-factor-waiting' };
    }
    await bruteForce.recordSuccess(success);
    metrics.logins.inc({ connector: outcome.connector.id, outcome: 'success' });
    return { status: 'signed-in', login: { accountId: identity.sub, amr: ['pwd'] } };
  }
}

type PasswordCheckOutcome =
  | { status: 'authenticated'; connector: PasswordConnector; identity: UpstreamIdentity }
  /**
   * `reason` is for the audit log only; `message` is what the user sees. `lockedOut` names the
   * budget that refused the attempt (its password was then not checked).
   */
  | {
      status: 'failed' | 'unavailable';
      message: string;
      reason: string;
      connector?: string;
      lockedOut?: Exclude<AttemptScope, 'interaction'>;
    }
  /** This interaction has used its password posts: the person must start again. */
  | { status: 'interaction-spent' }
  /** The verifier's queue is full: retry after `retryAfterSeconds`; nothing was counted or checked. */
  | { status: 'busy'; retryAfterSeconds: number };

interface PasswordCheck {
  connectors: PasswordConnector[];
  username: string;
  password: string;
  address: string;
  interaction: string;
  bruteForce: BruteForceGuard;
  verifier: PasswordVerifyGate;
  onUpstreamError: (connector: PasswordConnector, error: UpstreamError) => void;
}

/** The check alone: reservations, the connectors in order, the uniform work of a failure. */
async function checkPassword(request: PasswordCheck): Promise<PasswordCheckOutcome> {
  const { verifier } = request;
  // Refused before it is counted: a flood must not spend people's budgets on posts nobody checked.
  if (verifier.saturated) return { status: 'busy', retryAfterSeconds: verifier.retryAfterSeconds };
  const admission = await request.bruteForce.reserve({
    username: request.username,
    address: request.address,
    interaction: request.interaction,
  });
  if (!admission.admitted && admission.scope === 'interaction') return { status: 'interaction-spent' };
  // An address lockout is about the requester, not an account: skipping all work reveals nothing.
  if (!admission.admitted && admission.scope === 'address') return lockedOut('address');

  const work = new AttemptWork(request.bruteForce, verifier, admission.admitted);
  try {
    const outcome = await authenticate(request, work);
    if (outcome.status !== 'authenticated') await work.payForFailure(request.password);
    // Nothing was checked: a directory outage must not lock out the people who retry through it.
    // (Only a counted attempt is given back: a refused one counted nothing.)
    if (outcome.status === 'unavailable' && admission.admitted)
      await request.bruteForce.releaseAttempt({ username: request.username, address: request.address });
    if (outcome.status === 'failed' && work.refusedBy) return lockedOut(work.refusedBy, outcome.connector);
    return outcome;
  } catch (error) {
    if (error instanceof PasswordVerifyBusy)
      return { status: 'busy', retryAfterSeconds: error.retryAfterSeconds };
    throw error;
  }
}

/**
 * The attempt's reservations on resolved accounts and its argon2 work: a failure that made no
 * verify (unknown everywhere, a directory's wrong password, a lockout) pays one dummy verify.
 */
class AttemptWork {
  readonly #bruteForce: BruteForceGuard;
  readonly #verifier: PasswordVerifyGate;
  readonly #nameAdmitted: boolean;
  #verifies = 0;
  refusedBy: 'name' | 'account' | undefined;

  constructor(bruteForce: BruteForceGuard, verifier: PasswordVerifyGate, nameAdmitted: boolean) {
    this.#bruteForce = bruteForce;
    this.#verifier = verifier;
    this.#nameAdmitted = nameAdmitted;
    // A locked name stays locked even when no connector knows it (so a lockout reveals nothing).
    if (!nameAdmitted) this.refusedBy = 'name';
  }

  for(connector: PasswordConnector): PasswordAttempt {
    return {
      admit: async (account) => {
        if (!this.#nameAdmitted) return false;
        const admission = await this.#bruteForce.reserveAccount({ connector: connector.id, ...account });
        if (!admission.admitted) this.refusedBy = 'account';
        return admission.admitted;
      },
      verifyPassword: (storedHash, password) => {
        this.#verifies++;
        return this.#verifier.verifyPassword(storedHash, password);
      },
    };
  }

  async payForFailure(password: string): Promise<void> {
    if (this.#verifies > 0) return;
    this.#verifies++;
    await this.#verifier.verifyAgainstDummy(password);
  }
}

const lockedOut = (
  scope: Exclude<AttemptScope, 'interaction'>,
  connector?: string,
): PasswordCheckOutcome => ({
  status: 'failed',
  message: WRONG_CREDENTIALS,
  reason: `${scope} locked out after repeated attempts`,
  lockedOut: scope,
  ...(connector !== undefined && { connector }),
});

/** Tries the connectors in order; the first that knows the user decides. */
async function authenticate(request: PasswordCheck, work: AttemptWork): Promise<PasswordCheckOutcome> {
  let unavailable = false;
  for (const connector of request.connectors) {
    let result: PasswordLoginResult;
    try {
      result = await connector.login(request.username, request.password, work.for(connector));
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      request.onUpstreamError(connector, error);
      unavailable = true; // a directory that is down cannot say it does not know the user: try the next
      continue;
    }
    if (result.outcome === 'unknown-user') continue;
    if (result.outcome === 'authenticated')
      return { status: 'authenticated', connector, identity: result.identity };
    if (result.outcome === 'refused')
      return { status: 'failed', message: result.message, reason: result.reason, connector: connector.id };
    return {
      status: 'failed',
      message: WRONG_CREDENTIALS,
      reason: result.outcome === 'locked-out' ? 'locked out' : 'invalid credentials',
      connector: connector.id,
    };
  }
  return unavailable
    ? {
        status: 'unavailable',
        message: UPSTREAM_DOWN,
        reason: 'every connector that might know the user failed',
      }
    : { status: 'failed', message: WRONG_CREDENTIALS, reason: 'unknown user' };
}
