import { clearLoginFailures, readLoginFailures, recordLoginFailures } from '../store/login-failures.ts';
import type { Queryable } from '../store/pool.ts';

/**
 * Brute-force protection of the login form, shared by every Lock process through PostgreSQL.
 * Failures are counted per account name (known or not, so a lockout says nothing about
 * existence) and per source address; past a threshold each further failure locks for longer,
 * up to a maximum. Defaults follow Keycloak's: 30 failures, 1 minute more per failure, 15 minutes
 * at most, counts forgotten 12 hours after the first failure.
 */
export interface BruteForcePolicy {
  accountThreshold: number;
  /** Higher than the account's: one address may serve many people (NAT, proxies). */
  addressThreshold: number;
  waitIncrementSeconds: number;
  maxWaitSeconds: number;
  resetAfterSeconds: number;
}

export const DEFAULT_BRUTE_FORCE_POLICY: BruteForcePolicy = {
  accountThreshold: 30,
  addressThreshold: 100,
  waitIncrementSeconds: 60,
  maxWaitSeconds: 900,
  resetAfterSeconds: 12 * 3600,
};

export type Lockout = { locked: false } | { locked: true; scope: 'account' | 'address'; until: Date };

const accountKey = (username: string) => `account:${username.toLowerCase()}`;
const addressKey = (address: string) => `address:${address}`;

export class BruteForceGuard {
  readonly #db: Queryable;
  readonly #policy: BruteForcePolicy;
  readonly #now: () => Date;

  constructor(
    db: Queryable,
    policy: BruteForcePolicy = DEFAULT_BRUTE_FORCE_POLICY,
    now: () => Date = () => new Date(),
  ) {
    this.#db = db;
    this.#policy = policy;
    this.#now = now;
  }

  /** One query: is this account or this address locked out right now? */
  async check(username: string, address: string): Promise<Lockout> {
    const now = this.#now();
    const rows = await readLoginFailures(this.#db, [accountKey(username), addressKey(address)]);
    for (const row of rows) {
      if (row.lockedUntil && row.lockedUntil > now)
        return {
          locked: true,
          scope: row.key.startsWith('account:') ? 'account' : 'address',
          until: row.lockedUntil,
        };
    }
    return { locked: false };
  }

  /** One statement: counts the failure for the account and the address, locking past the thresholds. */
  async recordFailure(username: string, address: string): Promise<void> {
    const { accountThreshold, addressThreshold, waitIncrementSeconds, maxWaitSeconds, resetAfterSeconds } =
      this.#policy;
    await recordLoginFailures(this.#db, {
      now: this.#now(),
      resetAfterSeconds,
      waitIncrementSeconds,
      maxWaitSeconds,
      counters: [
        { key: accountKey(username), threshold: accountThreshold },
        { key: addressKey(address), threshold: addressThreshold },
      ],
    });
  }

  /** A successful sign-in forgets the account's failures (the address keeps its count). */
  async recordSuccess(username: string): Promise<void> {
    await clearLoginFailures(this.#db, [accountKey(username)]);
  }

  /** Admin unlock of an account (API and CLI). */
  async unlockAccount(username: string): Promise<boolean> {
    return (await clearLoginFailures(this.#db, [accountKey(username)])) > 0;
  }
}
