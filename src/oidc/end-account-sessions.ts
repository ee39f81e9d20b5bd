import { deletePayloadsOfAccounts } from '../store/oidc-payloads.ts';
import type { Queryable } from '../store/pool.ts';
import { forgetConsentsOfAccounts } from '../store/remembered-consents.ts';
import type { LogoutNotice, LogoutTrigger } from './backchannel-logout.ts';

/**
 * Ends what the subjects hold: sessions, grants, codes, refresh and opaque access tokens. Already
 * issued JWT access tokens live out their (short) lifetime, but can no longer be exchanged (their
 * TokenOrigin rows carry the accountId and go too). Returns how many rows went and, for
 * back-channel logout, one notice per client signed in to an ended session (with its `sid`), and
 * one without `sid` per client that held only a grant (its session at Lock had already ended).
 * The consents the subjects gave are withdrawn too: their next sign-in asks again.
 * The caller hands the notices to the runtime once its transaction has committed.
 */
export async function endAccountSessions(
  db: Queryable,
  subs: string[],
  trigger: LogoutTrigger,
): Promise<{ count: number; notices: LogoutNotice[] }> {
  if (subs.length === 0) return { count: 0, notices: [] };
  const { count, ended } = await deletePayloadsOfAccounts(db, subs);
  await forgetConsentsOfAccounts(db, subs);
  const notices: LogoutNotice[] = [];
  const told = new Set<string>();
  for (const session of ended)
    for (const [clientId, sid] of Object.entries(session.sids ?? {})) {
      told.add(`${session.accountId} ${clientId}`);
      notices.push({ clientId, sub: session.accountId, sid, trigger });
    }
  for (const grant of ended) {
    const key = `${grant.accountId} ${grant.clientId}`;
    if (grant.model !== 'Grant' || told.has(key)) continue;
    told.add(key);
    notices.push({ clientId: grant.clientId!, sub: grant.accountId, trigger });
  }
  return { count, notices };
}
