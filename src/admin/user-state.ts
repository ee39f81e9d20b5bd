import type pg from 'pg';
import { ADMIN_ROLE } from '../model/admin-role.ts';
import { BruteForceGuard } from '../security/brute-force.ts';
import { accountsOfSub, secondFactorsOfUsers } from '../store/account-factors.ts';
import { countLocalAccountsHoldingRole } from '../store/admin-sign-in.ts';
import type { Queryable } from '../store/pool.ts';
import { tx } from '../store/pool.ts';
import { LOCAL_CONNECTOR_ID, type User } from '../store/users.ts';
import { type AdminActor, CLI_ACTOR, recordAdminChange } from './admin-actor.ts';
import { adminSignInPaths } from './admin-sign-in.ts';
import { existingUser } from './existing-user.ts';
import { type UserView, userViews } from './users.ts';

/**
 * What an admin needs to see of an account beyond its profile: whether sign-ins are locked out,
 * its second factors (TOTP, passkeys), and whether the caller may disable or delete it (their own account, or the
 * last way anyone holding lock_admin signs in). Read per request, never part of the ETag: a lockout
 * coming or going must not make an edit fail with 412.
 */
export interface UserState {
  connector: string;
  lockedUntil: string | null;
  secondFactor: { totp: boolean; recoveryCodesLeft: number; passkeys: number };
  /** The account the caller is signed in as. */
  you: boolean;
  /** The only enabled account through which anyone holding lock_admin can sign in. */
  lastAdmin: boolean;
}

/** Once per request: whether exactly one local account is the only way an admin signs in. */
export async function soleAdminAccountExists(db: Queryable): Promise<boolean> {
  const paths = await adminSignInPaths(db);
  return paths.length === 1 && (await countLocalAccountsHoldingRole(db, ADMIN_ROLE)) === 1;
}

/**
 * The state of each of `users` (same order), read in a fixed number of statements whatever their
 * number: one per concern (lockouts, second factors, the caller's own account), never one per user.
 */
export async function userStates(
  db: Queryable,
  users: UserView[],
  by: AdminActor,
  soleAdmin: boolean,
): Promise<UserState[]> {
  if (users.length === 0) return [];
  const ids = users.map((user) => user.id);
  const locks = await new BruteForceGuard(db).lockedUntilOf(users.map((user) => user.username));
  const factors = await secondFactorsOfUsers(db, ids);
  // The CLI is no account: it is nobody's own.
  const own =
    by.actor === CLI_ACTOR.actor
      ? new Set<string>()
      : await accountsOfSub(db, LOCAL_CONNECTOR_ID, ids, by.actor);
  return users.map((user) => {
    const until = locks.get(user.username);
    const factor = factors.get(user.id);
    return {
      connector: LOCAL_CONNECTOR_ID,
      lockedUntil: until ? until.toISOString() : null,
      secondFactor: {
        totp: factor?.totp ?? false,
        recoveryCodesLeft: factor?.totp ? factor.unusedRecoveryCodes : 0,
        passkeys: factor?.passkeys ?? 0,
      },
      you: own.has(user.id),
      lastAdmin: soleAdmin && !user.disabled && user.hasPassword && user.effectiveRoles.includes(ADMIN_ROLE),
    };
  });
}

/** One user's state (a user's own reply): userStates of that one user. */
export async function userState(
  db: Queryable,
  user: UserView,
  by: AdminActor,
  soleAdmin: boolean,
): Promise<UserState> {
  return (await userStates(db, [user], by, soleAdmin))[0]!;
}

/**
 * Users as the API and the CLI list them, in the given order: each profile (userView) and its state,
 * read now, in a fixed number of statements for the whole page.
 */
export async function userListItems(db: Queryable, users: User[], by: AdminActor, soleAdmin: boolean) {
  const views = await userViews(db, users);
  const states = await userStates(db, views, by, soleAdmin);
  return views.map((view, index) => ({ ...view, ...states[index]! }));
}

/** Lifts a brute-force lockout of a local account (the API's unlock; the CLI's takes any name). */
export async function unlockUser(pool: pg.Pool, id: string, by: AdminActor = CLI_ACTOR): Promise<User> {
  const user = await existingUser(pool, id);
  const cleared = await new BruteForceGuard(pool).unlockAccount(user.username);
  await tx(pool, (db) =>
    recordAdminChange(db, by, {
      type: 'admin.user.unlocked',
      subject: user.username,
      details: { id, hadFailures: cleared },
    }),
  );
  return user;
}
