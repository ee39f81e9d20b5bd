import type { Queryable } from './pool.ts';
import { LOCAL_CONNECTOR_ID } from './users.ts';

/**
 * How many local accounts could sign in with a password holding `role`: enabled, with a password,
 * and holding it directly or through a group that a role mapping (for the local connector or `*`)
 * gives it — the same rule the local connector applies at sign-in.
 */
export async function countLocalAccountsHoldingRole(db: Queryable, role: string): Promise<number> {
  const { rows } = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM users AS account
     WHERE NOT account.disabled AND account.password_hash IS NOT NULL
       AND EXISTS (SELECT 1 FROM roles WHERE name = $1)
       AND (EXISTS (SELECT 1 FROM user_roles WHERE user_id = account.id AND role_name = $1)
            OR EXISTS (SELECT 1 FROM role_mappings AS mapping
                       JOIN user_groups AS membership ON membership.group_name = mapping.group_name
                       WHERE membership.user_id = account.id AND mapping.connector IN ($2, '*')
                         AND $1 = ANY (mapping.roles)))`,
    [role, LOCAL_CONNECTOR_ID],
  );
  return rows[0]!.count;
}
