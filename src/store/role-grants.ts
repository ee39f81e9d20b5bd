import type { Queryable } from './pool.ts';

/**
 * The roles that `groups` at `connector` map to (mappings for that connector or for `*`), plus the
 * roles in `direct`, in role priority order; roles that no longer exist are left out.
 */
export async function findRolesOfGroups(
  db: Queryable,
  connector: string,
  groups: string[],
  direct: string[],
): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT role.name FROM roles AS role
     WHERE role.name = ANY($3)
        OR role.name IN (SELECT unnest(mapping.roles) FROM role_mappings AS mapping
                         WHERE mapping.connector IN ($1, '*') AND mapping.group_name = ANY($2))
     ORDER BY role.position, role.name`,
    [connector, groups, direct],
  );
  return rows.map((row) => row.name);
}
