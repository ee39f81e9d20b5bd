import type { Queryable } from '../store/pool.ts';
import { findRolesOfGroups } from '../store/role-grants.ts';

/**
 * The roles a connector's groups map to (mappings for that connector or for `*`), plus any roles
 * granted directly, in role priority order. Roles that no longer exist are left out.
 */
export async function mapGroupsToRoles(
  db: Queryable,
  connector: string,
  groups: string[],
  direct: string[] = [],
): Promise<string[]> {
  return findRolesOfGroups(db, connector, groups, direct);
}
