// One password post of the login form, under attack as in normal use: the attempt is reserved
// before anything is verified, every alias of an account draws on its one budget, and every
// failure costs the same work (one argon2 verify in all), whichever connectors ran and whatever
// they said. Rendering, audit and metrics stay with the route (routes.ts).
import {
  type PasswordAttempt,
  type PasswordConnector,
  type PasswordLoginResult,
  UpstreamError,
  type UpstreamIdentity,
} from '../connectors/connector.ts';
import type { AttemptScope, BruteForceGuard } from '../security/brute-force.ts';
import { PasswordVerifyBusy, type PasswordVerifyGate } from '../security/passwords.ts';

// One message for a wrong password, an unknown user and a lockout: the page never tells which.
export const WRONG_CREDENTIALS = 'Incorrect username or password.';
const UPSTREAM_DOWN = 'Sign-in is unavailable right now. Please try again in a moment.';

export type PasswordSignInOutcome =
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

export interface PasswordSignInRequest {
  connectors: PasswordConnector[];
  username: string;
  password: string;
  address: string;
  interaction: string;
  bruteForce: BruteForceGuard;
  verifier: PasswordVerifyGate;
  onUpstreamError: (connector: PasswordConnector, error: UpstreamError) => void;
}

export async function signInWithPassword(request: PasswordSignInRequest): Promise<PasswordSignInOutcome> {
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
): PasswordSignInOutcome => ({
  status: 'failed',
  message: WRONG_CREDENTIALS,
  reason: `${scope} locked out after repeated attempts`,
  lockedOut: scope,
  ...(connector !== undefined && { connector }),
});

/** Tries the connectors in order; the first that knows the user decides. */
async function authenticate(
  request: PasswordSignInRequest,
  work: AttemptWork,
): Promise<PasswordSignInOutcome> {
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
