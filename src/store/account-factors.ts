// Second factors and sign-in identities of many local accounts at once: the admin user list reads a
// whole page in a fixed number of statements (docs/admin-api.md), not a few per account.
import type { Queryable } from './pool.ts';

/** An account's second factors as an admin sees them: counts only, never a secret or a code. */
export interface SecondFactorCounts {
  totp: boolean;
  /** Unused recovery codes (whether or not a TOTP credential is there: the caller decides). */
  unusedRecoveryCodes: number;
  passkeys: number;
}

/** For each given user id (in the map, with zeros when the user has none): TOTP, unused recovery codes, passkeys. */
export async function secondFactorsOfUsers(
  db: Queryable,
  userIds: string[],
): Promise<Map<string, SecondFactorCounts>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; totp: boolean; recovery_codes: number; passkeys: number }>(
    `SELECT account.id,
       EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = account.id) AS totp,
       (SELECT count(*)::int FROM totp_recovery_codes WHERE user_id = account.id AND used_at IS NULL)
         AS recovery_codes,
       (SELECT count(*)::int FROM passkeys WHERE user_id = account.id) AS passkeys
     FROM unnest($1::uuid[]) AS account (id)`,
    [userIds],
  );
  return new Map(
    rows.map((row) => [
      row.id,
      { totp: row.totp, unusedRecoveryCodes: row.recovery_codes, passkeys: row.passkeys },
    ]),
  );
}

/** Which of the given accounts of `connector` the subject `sub` signs in as (an identity with that sub). */
export async function accountsOfSub(
  db: Queryable,
  connector: string,
  upstreamIds: string[],
  sub: string,
): Promise<Set<string>> {
  if (upstreamIds.length === 0) return new Set();
  const { rows } = await db.query<{ upstream_id: string }>(
    'SELECT upstream_id FROM identities WHERE connector = $1 AND upstream_id = ANY($2::text[]) AND sub = $3',
    [connector, upstreamIds, sub],
  );
  return new Set(rows.map((row) => row.upstream_id));
}
