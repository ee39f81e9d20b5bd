// A person's recent sign-ins, from the audit log: the login.* events of their account.
import { listSignInEventsOf, type SignInEvent } from '../store/audit-events.ts';
import type { Queryable } from '../store/pool.ts';
import type { AccountPerson } from './account-context.ts';

export type { SignInEvent };

/** How many sign-ins /account lists. */
export const RECENT_SIGN_INS = 20;

export function recentSignIns(db: Queryable, person: AccountPerson): Promise<SignInEvent[]> {
  return listSignInEventsOf(db, person, RECENT_SIGN_INS);
}
