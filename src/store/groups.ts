import type { ManagedBy } from './catalog-repositories.ts';
import { ConflictError, isUniqueViolation, type Queryable } from './pool.ts';

/** Local accounts' groups: mapped to roles through role_mappings of the `local` connector (or `*`). */
export interface Group {
  name: string;
  managedBy: ManagedBy;
  memberCount: number;
}

export interface GroupMember {
  id: string;
  username: string;
}

export async function listGroups(db: Queryable): Promise<Group[]> {
  const { rows } = await db.query<{ name: string; managed_by: ManagedBy; member_count: number }>(
    `SELECT g.name, g.managed_by, count(m.user_id)::int AS member_count
     FROM groups AS g LEFT JOIN user_groups AS m ON m.group_name = g.name
     GROUP BY g.name ORDER BY g.name`,
  );
  return rows.map((row) => ({ name: row.name, managedBy: row.managed_by, memberCount: row.member_count }));
}

/** The group, locked until the transaction ends when `lock` is set. */
export async function findGroup(
  db: Queryable,
  name: string,
  lock = false,
): Promise<{ name: string; managedBy: ManagedBy } | undefined> {
  const { rows } = await db.query<{ name: string; managed_by: ManagedBy }>(
    `SELECT name, managed_by FROM groups WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
    [name],
  );
  return rows[0] && { name: rows[0].name, managedBy: rows[0].managed_by };
}

/** Throws ConflictError when the group exists. */
export async function createGroup(db: Queryable, name: string): Promise<void> {
  try {
    await db.query('INSERT INTO groups (name) VALUES ($1)', [name]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(`a group "${name}" already exists`);
    throw error;
  }
}

/** Removes the group and its memberships. */
export async function deleteGroup(db: Queryable, name: string): Promise<void> {
  await db.query('DELETE FROM groups WHERE name = $1', [name]);
}

export async function listGroupMembers(db: Queryable, name: string): Promise<GroupMember[]> {
  const { rows } = await db.query<GroupMember>(
    `SELECT u.id, u.username FROM user_groups AS m JOIN users AS u ON u.id = m.user_id
     WHERE m.group_name = $1 ORDER BY lower(u.username)`,
    [name],
  );
  return rows;
}

/** Returns whether the user was not a member before. */
export async function addGroupMember(db: Queryable, name: string, userId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO user_groups (user_id, group_name) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [userId, name],
  );
  return rowCount === 1;
}

/** Returns whether the user was a member. */
export async function removeGroupMember(db: Queryable, name: string, userId: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM user_groups WHERE user_id = $1 AND group_name = $2', [
    userId,
    name,
  ]);
  return rowCount === 1;
}
