import type { Queryable } from '../store/pool.ts';

/**
 * Ends what the subjects hold: sessions, grants, codes, refresh and opaque access tokens. Already
 * issued JWT access tokens live out their (short) lifetime, but can no longer be exchanged (their
 * TokenOrigin rows carry the accountId and go too).
 */
export async function endAccountSessions(db: Queryable, subs: string[]): Promise<number> {
  if (subs.length === 0) return 0;
  const { rowCount } = await db.query(
    "DELETE FROM oidc_payloads WHERE payload ? 'accountId' AND payload ->> 'accountId' = ANY($1)",
    [subs],
  );
  return rowCount ?? 0;
}
