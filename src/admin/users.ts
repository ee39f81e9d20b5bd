import type pg from 'pg';
import { conflict, fieldError, invalidInput, notFound } from '../observability/errors.ts';
import type { LogoutNotice, LogoutTrigger } from '../oidc/backchannel-logout.ts';
import { endAccountSessions } from '../oidc/end-account-sessions.ts';
import { checkPasswordPolicy, hashPassword } from '../security/passwords.ts';
import { subsOfUpstream } from '../store/identities.ts';
import { ConflictError, type Queryable, tx } from '../store/pool.ts';
import {
  createUser,
  deleteUser as deleteStoredUser,
  findUserById,
  LOCAL_CONNECTOR_ID,
  lockUserById,
  membershipsOfUsers,
  renameUser,
  setPasswordHash,
  setUserDisabled,
  setUserGroups,
  setUserRoles,
  UnknownRoleError,
  type User,
  updateUserProfile,
} from '../store/users.ts';
import { type AdminActor, CLI_ACTOR, recordAdminChange } from './admin-actor.ts';
import { keepingAdminSignIn } from './admin-sign-in.ts';
import { userInputSchema } from './api/schemas.ts';
import { assertCurrentVersion, entityTag } from './entity-tag.ts';
import { existingUser, existingUserNamed } from './existing-user.ts';
import { parseInput } from './validation.ts';

/**
 * Admin operations on local accounts, shared by the CLI and the admin API. Each is one
 * transaction with its audit event. Users read from the database on every login and token, so a
 * change needs no reload. Password hashes never leave this layer.
 */

export interface NewAccount {
  username: string;
  password?: string;
  email?: string;
  name?: string;
  groups?: string[];
  roles?: string[];
  disabled?: boolean;
}

/**
 * An account as the admin API and `lock users add` take it: the declarative file's user schema,
 * less passwordHash (hashes come in only through the file). One parser, so the two cannot drift.
 */
export function parseNewAccount(input: unknown): NewAccount {
  if (input !== null && typeof input === 'object' && 'passwordHash' in input)
    throw invalidInput([
      { path: 'passwordHash', message: 'is accepted only from the declarative file: send password instead' },
    ]);
  // The schema's fields are NewAccount's (the file's user, less passwordHash).
  return parseInput(userInputSchema, input) as unknown as NewAccount;
}

/** A user as the API shows it: groups, the roles granted directly, and all roles the user has now. */
export type UserView = User & { groups: string[]; roles: string[]; effectiveRoles: string[] };

/** Whether `by` is signed in as this local account (a token's sub is one of the account's subjects). */
export async function isOwnAccount(db: Queryable, userId: string, by: AdminActor): Promise<boolean> {
  return (
    by.actor !== CLI_ACTOR.actor && (await subsOfUpstream(db, LOCAL_CONNECTOR_ID, userId)).includes(by.actor)
  );
}

/**
 * Nobody disables or deletes the account they are signed in as: the console would throw them out
 * mid-task, and only the CLI could bring them back. Another administrator can.
 */
async function assertNotOwnAccount(db: Queryable, user: User, by: AdminActor, action: 'disable' | 'delete') {
  if (await isOwnAccount(db, user.id, by))
    throw conflict(
      `refused: you are signed in as ${user.username}, and you cannot ${action} your own account. Ask another administrator to do it.`,
    );
}

interface OwnAccountCheck {
  refuse?: { user: User; action: 'disable' | 'delete' };
}

/**
 * keepingAdminSignIn, then the caller's own account: a change that disables or deletes it (the
 * change sets `own.refuse`) is refused. Checked last, so that the last admin hears that reason.
 */
async function keepingAdminsIn<T>(
  db: Queryable,
  by: AdminActor,
  change: (own: OwnAccountCheck) => Promise<T>,
): Promise<T> {
  const own: OwnAccountCheck = {};
  const result = await keepingAdminSignIn(db, () => change(own));
  if (own.refuse) await assertNotOwnAccount(db, own.refuse.user, by, own.refuse.action);
  return result;
}

function assertPassword(password: string): void {
  const policy = checkPasswordPolicy(password);
  if (!policy.ok) throw fieldError('password', policy.reason);
}

/** Store errors that are the admin's to fix, as input errors naming the field. */
async function asInputErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConflictError) throw fieldError('username', error.message, 409);
    if (error instanceof UnknownRoleError) throw fieldError('roles', error.message);
    throw error;
  }
}

export async function userView(db: Queryable, user: User): Promise<UserView> {
  return (await userViews(db, [user]))[0]!;
}

/** userView of each user, in the given order, in one statement for them all (the admin user list's page). */
export async function userViews(db: Queryable, users: User[]): Promise<UserView[]> {
  const memberships = await membershipsOfUsers(
    db,
    users.map((user) => user.id),
  );
  return users.map((user) => {
    const { groups, directRoles, roles } = memberships.get(user.id) ?? {
      groups: [],
      directRoles: [],
      roles: [],
    };
    return { ...user, groups, roles: directRoles, effectiveRoles: roles };
  });
}

export async function getUser(db: Queryable, id: string): Promise<{ user: UserView; etag: string }> {
  const view = await userView(db, await existingUser(db, id));
  return { user: view, etag: entityTag(view) };
}

export async function addAccount(
  pool: pg.Pool,
  account: NewAccount,
  by: AdminActor = CLI_ACTOR,
): Promise<User> {
  if (account.password !== undefined) assertPassword(account.password);
  const passwordHash = account.password === undefined ? undefined : await hashPassword(account.password);
  return asInputErrors(() =>
    tx(pool, async (db) => {
      const user = await createUser(db, {
        username: account.username,
        ...(account.email !== undefined && { email: account.email }),
        ...(account.name !== undefined && { name: account.name }),
        ...(passwordHash !== undefined && { passwordHash }),
        disabled: account.disabled ?? false,
      });
      await setUserGroups(db, user.id, account.groups ?? []);
      await setUserRoles(db, user.id, account.roles ?? []);
      const { password: _, ...recorded } = account;
      await recordAdminChange(db, by, {
        type: 'admin.user.created',
        subject: user.username,
        details: { id: user.id, ...recorded, password: account.password !== undefined },
      });
      return user;
    }),
  );
}

/**
 * Replaces the account's profile, groups, direct roles and status; a password, when given, is set
 * too. Disabling ends the user's sessions and refresh tokens (the returned notices are for
 * back-channel logout, once committed). The file's accounts change in the file.
 */
export async function replaceAccount(
  pool: pg.Pool,
  id: string,
  account: NewAccount,
  ifMatch: string | undefined,
  by: AdminActor,
): Promise<{ notices: LogoutNotice[]; emailChanged: boolean }> {
  if (account.password !== undefined) assertPassword(account.password);
  const passwordHash = account.password === undefined ? undefined : await hashPassword(account.password);
  return asInputErrors(() =>
    tx(pool, (db) =>
      keepingAdminsIn(db, by, async (own) => {
        const user = await lockUserById(db, id);
        if (!user) throw notFound(`user ${id} does not exist`);
        if (account.disabled && !user.disabled) own.refuse = { user, action: 'disable' };
        const before = await userView(db, user);
        assertCurrentVersion(entityTag(before), ifMatch, `user ${user.username}`);
        assertAdminOwned(user);
        if (account.username !== user.username) await renameUser(db, id, account.username);
        await updateUserProfile(db, id, {
          ...(account.email !== undefined && { email: account.email }),
          ...(account.name !== undefined && { name: account.name }),
        });
        if (passwordHash !== undefined) await setPasswordHash(db, id, passwordHash);
        await setUserGroups(db, id, account.groups ?? []);
        await setUserRoles(db, id, account.roles ?? []);
        const disabled = account.disabled ?? false;
        if (disabled !== user.disabled) await setUserDisabled(db, id, disabled);
        const { count: ended, notices } =
          disabled && !user.disabled ? await endSessions(db, id, 'admin.user.disabled') : NOTHING_ENDED;
        const after = await userView(db, (await findUserById(db, id))!);
        await recordAdminChange(db, by, {
          type: 'admin.user.updated',
          subject: after.username,
          details: {
            id,
            changes: changes(before, after),
            ...(passwordHash !== undefined && { password: 'set' }),
            ...(ended > 0 && { endedSessions: ended }),
          },
        });
        return { notices, emailChanged: after.email !== undefined && after.email !== before.email };
      }),
    ),
  );
}

export async function deleteAccount(
  pool: pg.Pool,
  id: string,
  ifMatch: string | undefined,
  by: AdminActor,
): Promise<{ notices: LogoutNotice[] }> {
  return tx(pool, (db) =>
    keepingAdminsIn(db, by, async (own) => {
      const user = await lockUserById(db, id);
      if (!user) throw notFound(`user ${id} does not exist`);
      assertCurrentVersion(entityTag(await userView(db, user)), ifMatch, `user ${user.username}`);
      assertAdminOwned(user);
      own.refuse = { user, action: 'delete' };
      const { count: ended, notices } = await endSessions(db, id, 'admin.user.deleted');
      await deleteStoredUser(db, id);
      await recordAdminChange(db, by, {
        type: 'admin.user.deleted',
        subject: user.username,
        details: { id, endedSessions: ended },
      });
      return { notices };
    }),
  );
}

/** Sets a new password; with `endSessions`, the user is signed out everywhere (e.g. after a compromise). */
export async function setAccountPassword(
  pool: pg.Pool,
  id: string,
  password: string,
  options: { endSessions: boolean; ifMatch?: string | undefined },
  by: AdminActor,
): Promise<{ user: User; ended: number; notices: LogoutNotice[] }> {
  assertPassword(password);
  const passwordHash = await hashPassword(password);
  return tx(pool, async (db) => {
    const user = await lockedUser(db, id, options.ifMatch);
    await setPasswordHash(db, id, passwordHash);
    const { count: ended, notices } = options.endSessions
      ? await endSessions(db, id, 'admin.user.password_set')
      : NOTHING_ENDED;
    await recordAdminChange(db, by, {
      type: 'admin.user.password_set',
      subject: user.username,
      details: { id, endedSessions: ended },
    });
    return { user, ended, notices };
  });
}

/** A disabled user cannot sign in, and loses their sessions, grants and refresh tokens at once. */
export async function setAccountDisabledById(
  pool: pg.Pool,
  id: string,
  disabled: boolean,
  options: { ifMatch?: string | undefined },
  by: AdminActor,
): Promise<{ user: User; ended: number; notices: LogoutNotice[] }> {
  return tx(pool, (db) =>
    keepingAdminsIn(db, by, async (own) => {
      const user = await lockedUser(db, id, options.ifMatch);
      if (disabled) own.refuse = { user, action: 'disable' };
      await setUserDisabled(db, id, disabled);
      const { count: ended, notices } = disabled
        ? await endSessions(db, id, 'admin.user.disabled')
        : NOTHING_ENDED;
      await recordAdminChange(db, by, {
        type: disabled ? 'admin.user.disabled' : 'admin.user.enabled',
        subject: user.username,
        details: { id, ...(disabled && { endedSessions: ended }) },
      });
      return { user: { ...user, disabled }, ended, notices };
    }),
  );
}

/** Signs the user out everywhere: sessions, grants and refresh tokens end; the account stays as it is. */
export async function endAccountSessionsById(
  pool: pg.Pool,
  id: string,
  by: AdminActor,
): Promise<{ user: User; ended: number; notices: LogoutNotice[] }> {
  return tx(pool, async (db) => {
    const user = await lockedUser(db, id, undefined);
    const { count: ended, notices } = await endSessions(db, id, 'admin.sessions_ended');
    await recordAdminChange(db, by, {
      type: 'admin.user.sessions_ended',
      subject: user.username,
      details: { id, endedSessions: ended },
    });
    return { user, ended, notices };
  });
}

/** `lock users passwd NAME` */
export async function changePassword(
  pool: pg.Pool,
  username: string,
  password: string,
  options: { endSessions: boolean },
  by: AdminActor = CLI_ACTOR,
) {
  const user = await existingUserNamed(pool, username);
  return setAccountPassword(pool, user.id, password, options, by);
}

/** `lock users disable|enable NAME` */
export async function setAccountDisabled(
  pool: pg.Pool,
  username: string,
  disabled: boolean,
  by: AdminActor = CLI_ACTOR,
) {
  const user = await existingUserNamed(pool, username);
  return setAccountDisabledById(pool, user.id, disabled, {}, by);
}

async function lockedUser(db: Queryable, id: string, ifMatch: string | undefined): Promise<User> {
  const user = await lockUserById(db, id);
  if (!user) throw notFound(`user ${id} does not exist`);
  if (ifMatch !== undefined)
    assertCurrentVersion(entityTag(await userView(db, user)), ifMatch, `user ${user.username}`);
  return user;
}

// Disabling and passwords stay open for the file's accounts (an emergency cannot wait for a deploy);
// the next apply of the file restores what it declares.
function assertAdminOwned(user: User): void {
  if (user.managedBy === 'config')
    throw conflict(
      `user ${user.username} is managed by the declarative configuration file (LOCK_CONFIG): change it there and apply it`,
    );
}

const NOTHING_ENDED = { count: 0, notices: [] as LogoutNotice[] };

async function endSessions(db: Queryable, userId: string, trigger: LogoutTrigger) {
  return endAccountSessions(db, await subsOfUpstream(db, LOCAL_CONNECTOR_ID, userId), trigger);
}

function changes(before: UserView, after: UserView) {
  const fields = ['username', 'email', 'name', 'disabled', 'groups', 'roles'] as const;
  return fields
    .filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]))
    .map((field) => ({ path: field, from: before[field], to: after[field] }));
}
