import type { Queryable } from './pool.ts';
import { findIdentityWithLocalAccount, type IdentityWithLocalAccount } from './users.ts';

/** How many accounts a process keeps (the least recently used go first): ~1–2 KiB each. */
const ACCOUNTS_KEPT = 10_000;

/**
 * The accounts that token redemptions read (findIdentityWithLocalAccount), kept per `sub` with the
 * stamp they were read at. A redemption's own statement reads the account's stamp as it is now
 * (findGrantSource); while it is the kept one, nothing the account is made of has changed — not
 * the identity, the local account, its groups, its direct roles, the role mappings or the roles —
 * and the account is answered from here instead of being read again: that read was the larger part
 * of PostgreSQL's work per refresh (docs/performance.md, "Refresh").
 *
 * Nothing goes stale: every redemption compares against the database, so a change made through any
 * process is seen by the very next redemption, as when every one read the account.
 */
export class AccountCache {
  readonly #kept = new Map<string, IdentityWithLocalAccount>();
  readonly #limit: number;

  constructor(limit = ACCOUNTS_KEPT) {
    this.#limit = limit;
  }

  /** The account of `sub` as kept, if it was read at `stamp` (the database's stamp for it now). */
  current(sub: string, stamp: string): IdentityWithLocalAccount | undefined {
    const kept = this.#kept.get(sub);
    if (kept?.stamp !== stamp) return undefined;
    this.#keep(sub, kept);
    return kept;
  }

  /** Reads the account of `sub` (findIdentityWithLocalAccount) and keeps it. */
  async read(db: Queryable, sub: string): Promise<IdentityWithLocalAccount | undefined> {
    const found = await findIdentityWithLocalAccount(db, sub);
    if (found && stampCovers(found)) this.#keep(sub, deepFreeze(found));
    else this.#kept.delete(sub);
    return found;
  }

  #keep(sub: string, account: IdentityWithLocalAccount): void {
    this.#kept.delete(sub); // a Map iterates in insertion order: the most recently used goes last
    this.#kept.set(sub, account);
    if (this.#kept.size > this.#limit) this.#kept.delete(this.#kept.keys().next().value!);
  }
}

/**
 * Whether the stamp moves with every change of this account. For a local account, the triggers find
 * its identity by the user's id as PostgreSQL prints it: an identity naming the user otherwise
 * (another case, braces) would not move, so such an account is never kept.
 */
const stampCovers = (found: IdentityWithLocalAccount) =>
  found.local === undefined || (found.local !== null && found.local.user.id === found.identity.upstreamId);

/** Kept accounts are shared by requests: none may change one for the others. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
