import { deletePayloadsOfAccounts } from '../store/oidc-payloads.ts';
import type { Queryable } from '../store/pool.ts';

/**
 * Ends what the subjects hold: sessions, grants, codes, refresh and opaque access tokens. Already
 * issued JWT access tokens live out their (short) lifetime, but can no longer be exchanged (their
 * TokenOrigin rows carry the accountId and go too).
 */
export async function endAccountSessions(db: Queryable, subs: string[]): Promise<number> {
  if (subs.length === 0) return 0;
  return deletePayloadsOfAccounts(db, subs);
}
