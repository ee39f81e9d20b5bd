import { isIPv4, isIPv6 } from 'node:net';
import { BRUTE_FORCE_DEFAULTS, DEVICE_FLOW_DEFAULTS, TOKEN_LIFETIMES } from '../config/defaults.ts';
import {
  type AttemptCounter,
  clearAccountFailures,
  clearLoginFailures,
  lockedUntilOfAccounts,
  pruneLoginFailures,
  releaseAttempts,
  reserveAttempts,
} from '../store/login-failures.ts';
import type { Queryable } from '../store/pool.ts';

/**
 * Brute-force protection of the login form and the second-factor step, shared by every Lock
 * process through PostgreSQL. Each attempt is RESERVED before anything is verified: one statement
 * counts it and says whether it is within budget, so a burst of concurrent guesses cannot have more
 * of them checked than the threshold allows. Attempts are counted per typed name (known or not, so
 * a lockout says nothing about existence), per resolved account (every alias of one directory entry
 * or local account shares its budget), per source address and per interaction. Past a threshold
 * each further attempt locks for longer, up to a maximum. Defaults follow Keycloak's: 30 attempts,
 * 1 minute more per attempt, 15 minutes at most, counts forgotten 12 hours after the first one.
 */
export interface BruteForcePolicy {
  accountThreshold: number;
  /** Higher than the account's: one address may serve many people (NAT, proxies). */
  addressThreshold: number;
  waitIncrementSeconds: number;
  maxWaitSeconds: number;
  resetAfterSeconds: number;
  /** Password posts one sign-in interaction may make; then the person starts again from the application. */
  attemptsPerInteraction: number;
}

export const DEFAULT_BRUTE_FORCE_POLICY: BruteForcePolicy = BRUTE_FORCE_DEFAULTS;

/** oidc-provider's default interaction lifetime: an interaction's count never needs to live longer. */
const INTERACTION_WINDOW_SECONDS = TOKEN_LIFETIMES.Interaction;

/** Which budget refused an attempt; `admitted` when none did. */
export type AttemptScope = 'interaction' | 'address' | 'name' | 'account';
export type Admission = { admitted: true } | { admitted: false; scope: AttemptScope };

/** An account as its connector resolved it: `upstreamId` is what every alias leads to. */
export interface ResolvedAccount {
  connector: string;
  upstreamId: string;
  /** The account's own username (not what was typed): what an admin names to unlock it. */
  username: string;
}

/**
 * The typed name as a budget key: Unicode NFKC (full-width and other compatibility forms become
 * their plain letters), case-folded (upper then lower case, so "ß" and "SS" meet), trimmed.
 */
export function normaliseUsername(typed: string): string {
  return typed.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC').trim();
}

/**
 * The address as a budget key: IPv4 as is (also when mapped into IPv6), IPv6 per /64 — one
 * subscriber or host usually holds a whole /64, so counting per /128 would give it 2^64 budgets.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIPv4(address) || !isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('%')[0]!.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
    : headGroups;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

// 'account:' is the typed name's prefix since before accounts were resolved (migration 0015).
const nameKey = (typed: string) => `account:${normaliseUsername(typed)}`;
const accountKey = (account: ResolvedAccount) =>
  `upstream:${JSON.stringify([account.connector, account.upstreamId])}`;
const addressKey = (address: string) => `address:${addressBucket(address)}`;
const interactionKey = (uid: string) => `interaction:${uid}`;
const userCodeKey = (address: string) => `user-code:${addressBucket(address)}`;

/** One prune of stale counters per this many reservations (in each process). */
const PRUNE_EVERY = 500;

export class BruteForceGuard {
  readonly #db: Queryable;
  readonly #policy: BruteForcePolicy;
  readonly #now: () => Date;
  #reservations = 0;

  constructor(
    db: Queryable,
    policy: BruteForcePolicy = DEFAULT_BRUTE_FORCE_POLICY,
    now: () => Date = () => new Date(),
  ) {
    this.#db = db;
    this.#policy = policy;
    this.#now = now;
  }

  get policy(): BruteForcePolicy {
    return this.#policy;
  }

  /**
   * One statement, before anything is verified: counts the attempt for the typed name, the address
   * and (for a password post) the interaction, and says which budget, if any, refuses it. The
   * interaction is reported first (the person must start again), then the address, then the name.
   */
  async reserve(attempt: { username: string; address: string; interaction?: string }): Promise<Admission> {
    const counters: AttemptCounter[] = [
      this.#counter(nameKey(attempt.username), this.#policy.accountThreshold),
      this.#counter(addressKey(attempt.address), this.#policy.addressThreshold),
    ];
    if (attempt.interaction !== undefined)
      counters.push({
        key: interactionKey(attempt.interaction),
        threshold: this.#policy.attemptsPerInteraction,
        waitIncrementSeconds: INTERACTION_WINDOW_SECONDS,
        maxWaitSeconds: INTERACTION_WINDOW_SECONDS,
        resetAfterSeconds: INTERACTION_WINDOW_SECONDS,
      });
    const allowed = await this.#reserve(counters);
    if (attempt.interaction !== undefined && !allowed.get(interactionKey(attempt.interaction)))
      return { admitted: false, scope: 'interaction' };
    if (!allowed.get(addressKey(attempt.address))) return { admitted: false, scope: 'address' };
    if (!allowed.get(nameKey(attempt.username))) return { admitted: false, scope: 'name' };
    return { admitted: true };
  }

  /**
   * A passkey assertion on the login page, before its credential names an account: counted for the
   * address and the interaction (the same budgets as password posts), then per account by
   * `reserveAccount` once the credential is looked up.
   */
  async reserveAssertion(attempt: { address: string; interaction: string }): Promise<Admission> {
    const interaction = interactionKey(attempt.interaction);
    const allowed = await this.#reserve([
      this.#counter(addressKey(attempt.address), this.#policy.addressThreshold),
      {
        key: interaction,
        threshold: this.#policy.attemptsPerInteraction,
        waitIncrementSeconds: INTERACTION_WINDOW_SECONDS,
        maxWaitSeconds: INTERACTION_WINDOW_SECONDS,
        resetAfterSeconds: INTERACTION_WINDOW_SECONDS,
      },
    ]);
    if (!allowed.get(interaction)) return { admitted: false, scope: 'interaction' };
    if (!allowed.get(addressKey(attempt.address))) return { admitted: false, scope: 'address' };
    return { admitted: true };
  }

  /**
   * A user code typed on the device page (RFC 8628 §5.1), reserved before it is looked up, per
   * address: its own budget (DEVICE_FLOW_DEFAULTS), so that guessing codes locks no sign-in.
   */
  async reserveUserCode(address: string): Promise<Admission> {
    const key = userCodeKey(address);
    const allowed = await this.#reserve([
      this.#counter(key, DEVICE_FLOW_DEFAULTS.userCodeAttemptsPerAddress),
    ]);
    return allowed.get(key) ? { admitted: true } : { admitted: false, scope: 'address' };
  }

  /** A user code that was found gives its reserved attempt back: only wrong codes stay counted. */
  async releaseUserCode(address: string): Promise<void> {
    await releaseAttempts(this.#db, [userCodeKey(address)]);
  }

  /** The attempt on the account the connector resolved, shared by every name that leads to it. */
  async reserveAccount(account: ResolvedAccount): Promise<Admission> {
    const allowed = await this.#reserve([this.#accountCounter(account)]);
    return allowed.get(accountKey(account)) ? { admitted: true } : { admitted: false, scope: 'account' };
  }

  /** For a step whose account is already known (a second factor): name, address and account in one statement. */
  async reserveForAccount(attempt: {
    username: string;
    address: string;
    account: ResolvedAccount;
  }): Promise<Admission> {
    const allowed = await this.#reserve([
      this.#counter(nameKey(attempt.username), this.#policy.accountThreshold),
      this.#counter(addressKey(attempt.address), this.#policy.addressThreshold),
      this.#accountCounter(attempt.account),
    ]);
    if (!allowed.get(addressKey(attempt.address))) return { admitted: false, scope: 'address' };
    if (!allowed.get(nameKey(attempt.username))) return { admitted: false, scope: 'name' };
    if (!allowed.get(accountKey(attempt.account))) return { admitted: false, scope: 'account' };
    return { admitted: true };
  }

  /**
   * A right password whose sign-in goes on (a second factor) gives its reserved attempt back: only
   * failures stay counted, but the account's count is forgotten only once the sign-in is complete.
   * So does an attempt that no connector could check (every directory down).
   */
  async releaseAttempt(success: {
    username: string;
    account?: ResolvedAccount;
    address: string;
  }): Promise<void> {
    await releaseAttempts(this.#db, [
      nameKey(success.username),
      addressKey(success.address),
      ...(success.account ? [accountKey(success.account)] : []),
    ]);
  }

  /**
   * A successful sign-in forgets the typed name's and the account's attempts, and gives the address
   * back its attempt (an address counts failures; its people's successes must not lock it).
   */
  async recordSuccess(success: {
    username: string;
    account: ResolvedAccount;
    address: string;
  }): Promise<void> {
    await clearLoginFailures(this.#db, [nameKey(success.username), accountKey(success.account)]);
    await releaseAttempts(this.#db, [addressKey(success.address)]);
  }

  /** Admin unlock (API and CLI): the typed name `username` and every account whose own name it is. */
  async unlockAccount(username: string): Promise<boolean> {
    return (await clearAccountFailures(this.#db, [nameKey(username)], normaliseUsername(username))) > 0;
  }

  /** Until when sign-ins as `username` are refused (what an admin sees and unlocks); null when they are not. */
  async lockedUntil(username: string): Promise<Date | null> {
    return (await this.lockedUntilOf([username])).get(username) ?? null;
  }

  /** lockedUntil for many accounts in one statement (the admin user list's page): username → until, locked ones only. */
  async lockedUntilOf(usernames: string[]): Promise<Map<string, Date>> {
    const locks = await lockedUntilOfAccounts(
      this.#db,
      usernames.map((username) => ({ key: nameKey(username), accountName: normaliseUsername(username) })),
      this.#now(),
    );
    const locked = new Map<string, Date>();
    for (const username of usernames) {
      const until = locks.get(normaliseUsername(username));
      if (until) locked.set(username, until);
    }
    return locked;
  }

  #accountCounter(account: ResolvedAccount): AttemptCounter {
    return {
      ...this.#counter(accountKey(account), this.#policy.accountThreshold),
      accountName: normaliseUsername(account.username),
    };
  }

  #counter(key: string, threshold: number): AttemptCounter {
    const { waitIncrementSeconds, maxWaitSeconds, resetAfterSeconds } = this.#policy;
    return { key, threshold, waitIncrementSeconds, maxWaitSeconds, resetAfterSeconds };
  }

  async #reserve(counters: AttemptCounter[]): Promise<Map<string, boolean>> {
    const now = this.#now();
    if (++this.#reservations % PRUNE_EVERY === 0) pruneLoginFailures(this.#db, now).catch(() => {}); // housekeeping: the next prune retries
    return reserveAttempts(this.#db, now, counters);
  }
}
