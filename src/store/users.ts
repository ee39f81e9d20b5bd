import { LockError } from '../observability/errors.ts';
import type { ManagedBy } from './catalog-repositories.ts';
import { type IdentityRow, type StoredIdentity, toIdentity } from './identities.ts';
import { ConflictError, isUniqueViolation, type Queryable } from './pool.ts';

/** The connector id under which local accounts' groups are mapped to roles. */
export const LOCAL_CONNECTOR_ID = 'local';

/** A local account as shown and used everywhere except the password check: no hash in it. */
export interface User {
  id: string;
  username: string;
  email?: string;
  /** The person proved they read `email` (a verification link); any change of the address un-verifies it. */
  emailVerified: boolean;
  name?: string;
  disabled: boolean;
  hasPassword: boolean;
  managedBy: ManagedBy;
  createdAt: Date;
  updatedAt: Date;
}

/** What a login needs, and only a login: the account and its password hash (null = no password login). */
export interface UserCredentials {
  user: User;
  passwordHash: string | null;
}

export interface NewUser {
  username: string;
  email?: string;
  name?: string;
  passwordHash?: string;
  disabled?: boolean;
  managedBy?: ManagedBy;
}

export class UnknownRoleError extends LockError {
  override name = 'UnknownRoleError';
  constructor(message: string) {
    super('invalid_input', message);
  }
}

interface UserRow {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  name: string | null;
  disabled: boolean;
  has_password: boolean;
  managed_by: ManagedBy;
  created_at: Date;
  updated_at: Date;
}

const USER_COLUMNS =
  'id, username, email, coalesce(lower(email) = lower(email_verified_address), false) AS email_verified, name, disabled, password_hash IS NOT NULL AS has_password, managed_by, created_at, updated_at';

const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  ...(row.email !== null && { email: row.email }),
  emailVerified: row.email_verified,
  ...(row.name !== null && { name: row.name }),
  disabled: row.disabled,
  hasPassword: row.has_password,
  managedBy: row.managed_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

// Ids come from URLs and tokens: anything that is not a uuid names no user rather than failing the query.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (id: string) => UUID.test(id);

/** Throws ConflictError when the username is taken, whatever its case. */
export async function createUser(db: Queryable, user: NewUser): Promise<User> {
  try {
    const { rows } = await db.query<UserRow>(
      `INSERT INTO users (username, email, name, password_hash, disabled, managed_by)
       VALUES ($1, $2, $3, $4, $5, $6)
       RETURNING ${USER_COLUMNS}`,
      [
        user.username,
        user.email ?? null,
        user.name ?? null,
        user.passwordHash ?? null,
        user.disabled ?? false,
        user.managedBy ?? null,
      ],
    );
    return toUser(rows[0]!);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(`a user named "${user.username}" already exists (usernames ignore case)`);
    throw error;
  }
}

export async function findUserByUsername(db: Queryable, username: string): Promise<User | undefined> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users WHERE lower(username) = lower($1)`,
    [username],
  );
  return rows[0] && toUser(rows[0]);
}

export async function findUserById(db: Queryable, id: string): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return rows[0] && toUser(rows[0]);
}

/** For the login form only: the one read that returns the password hash. */
export async function findCredentials(db: Queryable, username: string): Promise<UserCredentials | undefined> {
  const { rows } = await db.query<UserRow & { password_hash: string | null }>(
    `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)`,
    [username],
  );
  const row = rows[0];
  return row && { user: toUser(row), passwordHash: row.password_hash };
}

export async function listUsers(db: Queryable): Promise<User[]> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users ORDER BY lower(username)`);
  return rows.map(toUser);
}

/** Returns false when there is no such user. */
export async function updateUserProfile(
  db: Queryable,
  id: string,
  profile: { email?: string; name?: string },
): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query(
    'UPDATE users SET email = $2, name = $3, updated_at = now() WHERE id = $1',
    [id, profile.email ?? null, profile.name ?? null],
  );
  return rowCount === 1;
}

/** A null hash turns password login off for the account. Returns false when there is no such user. */
export async function setPasswordHash(
  db: Queryable,
  id: string,
  passwordHash: string | null,
): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query(
    'UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1',
    [id, passwordHash],
  );
  return rowCount === 1;
}

/** Returns false when there is no such user. */
export async function setUserDisabled(db: Queryable, id: string, disabled: boolean): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query('UPDATE users SET disabled = $2, updated_at = now() WHERE id = $1', [
    id,
    disabled,
  ]);
  return rowCount === 1;
}

/** Removes the user with their group memberships and role grants. Returns false when there is no such user. */
export async function deleteUser(db: Queryable, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query('DELETE FROM users WHERE id = $1', [id]);
  return rowCount === 1;
}

/** Makes `groups` the user's groups, creating the groups that do not exist yet; one statement, so atomic. */
export async function setUserGroups(db: Queryable, userId: string, groups: string[]): Promise<void> {
  await db.query(
    `WITH created AS (
       INSERT INTO groups (name) SELECT DISTINCT unnest($2::text[]) ON CONFLICT (name) DO NOTHING
     ), removed AS (
       DELETE FROM user_groups WHERE user_id = $1 AND group_name <> ALL ($2::text[])
     )
     INSERT INTO user_groups (user_id, group_name) SELECT DISTINCT $1::uuid, unnest($2::text[])
     ON CONFLICT (user_id, group_name) DO NOTHING`,
    [userId, groups],
  );
}

/** Makes `roles` the roles granted to the user directly. Throws UnknownRoleError naming roles that do not exist. */
export async function setUserRoles(db: Queryable, userId: string, roles: string[]): Promise<void> {
  const { rows: unknown } = await db.query<{ name: string }>(
    'SELECT DISTINCT name FROM unnest($1::text[]) AS wanted (name) WHERE name NOT IN (SELECT name FROM roles) ORDER BY name',
    [roles],
  );
  if (unknown.length > 0)
    throw new UnknownRoleError(`unknown role(s): ${unknown.map((row) => row.name).join(', ')}`);
  await db.query(
    `WITH removed AS (
       DELETE FROM user_roles WHERE user_id = $1 AND role_name <> ALL ($2::text[])
     )
     INSERT INTO user_roles (user_id, role_name) SELECT DISTINCT $1::uuid, unnest($2::text[])
     ON CONFLICT (user_id, role_name) DO NOTHING`,
    [userId, roles],
  );
}

/**
 * The user's groups (by name) and roles: those granted directly and those that role_mappings give
 * the user's groups for the local connector or any connector (`*`), in role priority order. Roles
 * a mapping names but the catalog does not define are left out. One query: it runs on every login
 * and token.
 */
/**
 * The user's groups and their roles (direct, and mapped from the groups for the local connector),
 * roles in priority order, as two array columns for the user whose id is `user` (an SQL
 * expression: a parameter or a column) and the local connector's id `connector` (a parameter).
 * The roles are those whose name is in the direct and the mapped names concatenated (`= ANY` of
 * two arrays: a name listed twice matches once), not an `IN (… UNION …)`: the same set with no
 * sort-and-unique step, which every refresh paid for (docs/performance.md, "Third pass").
 */
const groupsAndRoles = (user: string, connector: string) => `
  ARRAY(SELECT group_name FROM user_groups WHERE user_id = ${user} ORDER BY group_name) AS groups,
  ARRAY(SELECT role.name FROM roles AS role
        WHERE role.name = ANY (
          ARRAY(SELECT role_name FROM user_roles WHERE user_id = ${user})
          || ARRAY(SELECT unnest(mapping.roles) FROM role_mappings AS mapping
                   WHERE mapping.connector IN (${connector}, '*')
                     AND mapping.group_name IN (SELECT group_name FROM user_groups WHERE user_id = ${user})))
        ORDER BY role.position, role.name) AS roles`;

/** For the user whose id is `$1`, the local connector's id being `$2`. */
const GROUPS_AND_ROLES = groupsAndRoles('$1', '$2');

export async function userGroupsAndRoles(
  db: Queryable,
  userId: string,
): Promise<{ groups: string[]; roles: string[] }> {
  if (!isUuid(userId)) return { groups: [], roles: [] };
  const { rows } = await db.query<{ groups: string[]; roles: string[] }>(`SELECT ${GROUPS_AND_ROLES}`, [
    userId,
    LOCAL_CONNECTOR_ID,
  ]);
  return rows[0]!;
}

/** The account with its groups and roles in one statement (the refresh path re-checks every user). */
export async function findUserWithGroupsAndRoles(
  db: Queryable,
  id: string,
): Promise<{ user: User; groups: string[]; roles: string[] } | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<UserRow & { groups: string[]; roles: string[] }>(
    `SELECT ${USER_COLUMNS}, ${GROUPS_AND_ROLES} FROM users WHERE id = $1`,
    [id, LOCAL_CONNECTOR_ID],
  );
  const row = rows[0];
  return row && { user: toUser(row), groups: row.groups, roles: row.roles };
}

/** A user's memberships as the admin API shows them: groups, roles granted directly, all roles. */
export interface UserMemberships {
  groups: string[];
  directRoles: string[];
  roles: string[];
}

/**
 * userGroupsAndRoles and userDirectRoles for many users in one statement (the admin user list's
 * page), by user id; every given id is in the map (a user with none has empty lists).
 */
export async function membershipsOfUsers(
  db: Queryable,
  userIds: string[],
): Promise<Map<string, UserMemberships>> {
  const ids = userIds.filter(isUuid);
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; groups: string[]; roles: string[]; direct_roles: string[] }>(
    `SELECT account.id, ${groupsAndRoles('account.id', '$2')},
       ARRAY(SELECT role_name FROM user_roles WHERE user_id = account.id ORDER BY role_name) AS direct_roles
     FROM unnest($1::uuid[]) AS account (id)`,
    [ids, LOCAL_CONNECTOR_ID],
  );
  return new Map(
    rows.map((row) => [row.id, { groups: row.groups, directRoles: row.direct_roles, roles: row.roles }]),
  );
}

/** A local account with its groups and roles, as the refresh path re-checks it. */
export interface AccountWithGroupsAndRoles {
  user: User;
  groups: string[];
  roles: string[];
}

/** The identity behind a `sub` and, for a local account, that account (see findIdentityWithLocalAccount). */
export interface IdentityWithLocalAccount {
  identity: StoredIdentity;
  /** Undefined for another connector's identity, null when the local account is gone. */
  local: AccountWithGroupsAndRoles | null | undefined;
  /** What it was read at (accountStampSql): the same stamp later means the same account. */
  stamp: string;
}

type IdentityWithAccountRow = {
  identity: IdentityRow;
  is_local: boolean;
  stamp: string;
} & Partial<UserRow> & {
    groups: string[];
    roles: string[];
  };

/**
 * The stamp of the account behind the identity row `identity`: the identity's version, which every
 * change of the identity, of its local account and of that account's groups and direct roles moves
 * (migration 0038's triggers), and the version of what applies to every account (roles, role
 * mappings). Two reads with the same stamp read the same account.
 */
export const accountStampSql = (identity: string) =>
  `${identity}.version || ':' || (SELECT version FROM change_versions WHERE topic = 'accounts')`;

/**
 * The identity behind `$1` and, when it is one of Lock's own accounts, that account with its groups
 * and roles, and its stamp; `$2` is LOCAL_CONNECTOR_ID and `$3` UUID's pattern.
 */
const IDENTITY_WITH_LOCAL_ACCOUNT = `
  SELECT jsonb_build_object('sub', i.sub, 'connector', i.connector, 'upstream_id', i.upstream_id,
              'username', i.username, 'email', i.email, 'name', i.name, 'groups', i.groups,
              'claims', i.claims) AS identity,
            i.connector = $2 AS is_local, ${accountStampSql('i')} AS stamp, account.*
       FROM identities AS i
       LEFT JOIN LATERAL (
         SELECT ${USER_COLUMNS}, ${groupsAndRoles('users.id', '$2')} FROM users
          WHERE users.id = CASE WHEN i.connector = $2 AND i.upstream_id ~* $3 THEN i.upstream_id::uuid END
       ) AS account ON true
      WHERE i.sub = $1`;

function toIdentityWithLocalAccount(row: IdentityWithAccountRow): IdentityWithLocalAccount {
  const identity = toIdentity(row.identity);
  const { stamp } = row;
  if (!row.is_local) return { identity, local: undefined, stamp };
  if (row.id === null || row.id === undefined) return { identity, local: null, stamp };
  return { identity, local: { user: toUser(row as UserRow), groups: row.groups, roles: row.roles }, stamp };
}

/**
 * The identity behind `sub` and, when it is one of Lock's own accounts, that account with its
 * groups and roles — in one statement, as every refresh and code redemption reads both (through
 * AccountCache, which keeps what it read). `local` is undefined for another connector's identity
 * and null when the local account is gone.
 */
export async function findIdentityWithLocalAccount(
  db: Queryable,
  sub: string,
): Promise<IdentityWithLocalAccount | undefined> {
  const { rows } = await db.query<IdentityWithAccountRow>({
    // Named: each connection has PostgreSQL parse and plan it once.
    name: 'users-find-identity-with-local-account',
    text: IDENTITY_WITH_LOCAL_ACCOUNT,
    values: [sub, LOCAL_CONNECTOR_ID, UUID.source],
  });
  const row = rows[0];
  return row && toIdentityWithLocalAccount(row);
}

/** Marks who owns the account: `config` when the declarative file declares it. */
export async function setUserManagedBy(db: Queryable, id: string, managedBy: ManagedBy): Promise<void> {
  await db.query('UPDATE users SET managed_by = $2 WHERE id = $1', [id, managedBy]);
}

/** The roles granted to the user directly (not through groups), by name. */
export async function userDirectRoles(db: Queryable, userId: string): Promise<string[]> {
  if (!isUuid(userId)) return [];
  const { rows } = await db.query<{ role_name: string }>(
    'SELECT role_name FROM user_roles WHERE user_id = $1 ORDER BY role_name',
    [userId],
  );
  return rows.map((row) => row.role_name);
}

/** How many accounts hold the role directly. */
export async function countUsersWithRole(db: Queryable, role: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM user_roles WHERE role_name = $1',
    [role],
  );
  return rows[0]!.n;
}

/** The user, locked until the transaction ends: for a change that checks the current state first. */
export async function lockUserById(db: Queryable, id: string): Promise<User | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [
    id,
  ]);
  return rows[0] && toUser(rows[0]);
}

/** Throws ConflictError when another account has the name, whatever its case. */
export async function renameUser(db: Queryable, id: string, username: string): Promise<void> {
  try {
    await db.query('UPDATE users SET username = $2, updated_at = now() WHERE id = $1', [id, username]);
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(`a user named "${username}" already exists (usernames ignore case)`);
    throw error;
  }
}

/**
 * One page of users in username order, after the user `after` (a username) when given; `search`
 * matches part of the username, email or name, ignoring case.
 */
export async function listUsersPage(
  db: Queryable,
  options: { after?: string; limit: number; search?: string },
): Promise<User[]> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM users
     WHERE ($1::text IS NULL OR lower(username) > lower($1))
       AND ($2::text IS NULL OR strpos(lower(username || ' ' || coalesce(email, '') || ' ' || coalesce(name, '')), lower($2)) > 0)
     ORDER BY lower(username) LIMIT $3`,
    [options.after ?? null, options.search ?? null, options.limit],
  );
  return rows.map(toUser);
}

/** For `lock config export` only: every account's password hash by user id (never for the API). */
export async function listPasswordHashesForExport(db: Queryable): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; password_hash: string }>(
    'SELECT id, password_hash FROM users WHERE password_hash IS NOT NULL',
  );
  return new Map(rows.map((row) => [row.id, row.password_hash]));
}

/**
 * The accounts a password-reset request names: by username or by email (ignoring case; an email
 * may be on several accounts), each with its password hash. At most `limit`.
 */
export async function findResetCandidates(
  db: Queryable,
  identifier: string,
  limit: number,
): Promise<UserCredentials[]> {
  const { rows } = await db.query<UserRow & { password_hash: string | null }>(
    `SELECT ${USER_COLUMNS}, password_hash FROM users
     WHERE lower(username) = lower($1) OR lower(email) = lower($1)
     ORDER BY lower(username) = lower($1) DESC, lower(username) LIMIT $2`,
    [identifier, limit],
  );
  return rows.map((row) => ({ user: toUser(row), passwordHash: row.password_hash }));
}

/** The account and its password hash, by id (a reset link's page checks the link is still bound). */
export async function findCredentialsById(db: Queryable, id: string): Promise<UserCredentials | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<UserRow & { password_hash: string | null }>(
    `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  return row && { user: toUser(row), passwordHash: row.password_hash };
}

/** The account and its password hash, locked until the transaction ends (a reset checks, then sets). */
export async function lockCredentialsById(db: Queryable, id: string): Promise<UserCredentials | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<UserRow & { password_hash: string | null }>(
    `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const row = rows[0];
  return row && { user: toUser(row), passwordHash: row.password_hash };
}

/** Marks `address` verified, if it is still the account's email; false when it no longer is. */
export async function markEmailVerified(
  db: Queryable,
  id: string,
  address: string,
  at: Date,
): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query(
    `UPDATE users SET email_verified_address = email, email_verified_at = $3
     WHERE id = $1 AND lower(email) = lower($2)`,
    [id, address, at],
  );
  return rowCount === 1;
}

/** Makes a verified `address` the account's email (a change of address confirmed from its mailbox). */
export async function replaceWithVerifiedEmail(
  db: Queryable,
  id: string,
  address: string,
  at: Date,
): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rowCount } = await db.query(
    `UPDATE users SET email = $2, email_verified_address = $2, email_verified_at = $3, updated_at = now()
     WHERE id = $1`,
    [id, address, at],
  );
  return rowCount === 1;
}
