import type pg from 'pg';
import { endAccountSessions } from '../oidc/end-account-sessions.ts';
import { checkPasswordPolicy, hashPassword } from '../security/passwords.ts';
import { subsOfUpstream } from '../store/identities.ts';
import { ConflictError, tx } from '../store/pool.ts';
import {
  createUser,
  findUserByUsername,
  LOCAL_CONNECTOR_ID,
  setPasswordHash,
  setUserDisabled,
  setUserGroups,
  setUserRoles,
  UnknownRoleError,
  type User,
  userGroupsAndRoles,
} from '../store/users.ts';
import { AdminInputError, NotFoundError } from './errors.ts';

/** Admin operations on local accounts, shared by the CLI and the admin API. */

export interface NewAccount {
  username: string;
  password?: string;
  email?: string;
  name?: string;
  groups?: string[];
  roles?: string[];
}

function assertPassword(password: string): void {
  const policy = checkPasswordPolicy(password);
  if (!policy.ok) throw new AdminInputError('password', policy.reason);
}

export async function addAccount(pool: pg.Pool, account: NewAccount): Promise<User> {
  if (account.password !== undefined) assertPassword(account.password);
  const passwordHash = account.password === undefined ? undefined : await hashPassword(account.password);
  try {
    return await tx(pool, async (db) => {
      const user = await createUser(db, {
        username: account.username,
        ...(account.email !== undefined && { email: account.email }),
        ...(account.name !== undefined && { name: account.name }),
        ...(passwordHash !== undefined && { passwordHash }),
      });
      await setUserGroups(db, user.id, account.groups ?? []);
      await setUserRoles(db, user.id, account.roles ?? []);
      return user;
    });
  } catch (error) {
    if (error instanceof ConflictError) throw new AdminInputError('username', error.message, 409);
    if (error instanceof UnknownRoleError) throw new AdminInputError('roles', error.message);
    throw error;
  }
}

async function requireUser(pool: pg.Pool, username: string): Promise<User> {
  const user = await findUserByUsername(pool, username);
  if (!user) throw new NotFoundError(`no local user named "${username}"`);
  return user;
}

/** Sets a new password; with `endSessions`, the user is signed out everywhere (e.g. after a compromise). */
export async function changePassword(
  pool: pg.Pool,
  username: string,
  password: string,
  options: { endSessions: boolean },
) {
  assertPassword(password);
  const user = await requireUser(pool, username);
  await setPasswordHash(pool, user.id, await hashPassword(password));
  const ended = options.endSessions
    ? await endAccountSessions(pool, await subsOfUpstream(pool, LOCAL_CONNECTOR_ID, user.id))
    : 0;
  return { user, ended };
}

/** A disabled user cannot sign in, and loses their sessions, grants and refresh tokens at once. */
export async function setAccountDisabled(pool: pg.Pool, username: string, disabled: boolean) {
  const user = await requireUser(pool, username);
  await setUserDisabled(pool, user.id, disabled);
  const ended = disabled
    ? await endAccountSessions(pool, await subsOfUpstream(pool, LOCAL_CONNECTOR_ID, user.id))
    : 0;
  return { user: { ...user, disabled }, ended };
}

export async function describeAccount(pool: pg.Pool, user: User) {
  return { ...user, ...(await userGroupsAndRoles(pool, user.id)) };
}
