import type pg from 'pg';
import { ADMIN_ROLE } from '../model/admin-role.ts';
import { notFound } from '../observability/errors.ts';
import { BruteForceGuard } from '../security/brute-force.ts';
import { countLocalAccountsHoldingRole } from '../store/admin-sign-in.ts';
import { countPasskeys } from '../store/passkeys.ts';
import type { Queryable } from '../store/pool.ts';
import { tx } from '../store/pool.ts';
import { countUnusedRecoveryCodes, findTotpCredential } from '../store/totp.ts';
import { findUserById, LOCAL_CONNECTOR_ID, type User } from '../store/users.ts';
import { type AdminActor, CLI_ACTOR, recordAdminChange } from './admin-actor.ts';
import { adminSignInPaths } from './admin-sign-in.ts';
import { isOwnAccount, type UserView, userView } from './users.ts';

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

export async function userState(
  db: pg.Pool,
  user: UserView,
  by: AdminActor,
  soleAdmin: boolean,
): Promise<UserState> {
  const until = await new BruteForceGuard(db).lockedUntil(user.username);
  const totp = await findTotpCredential(db, user.id);
  return {
    connector: LOCAL_CONNECTOR_ID,
    lockedUntil: until ? until.toISOString() : null,
    secondFactor: {
      totp: totp !== undefined,
      recoveryCodesLeft: totp ? await countUnusedRecoveryCodes(db, user.id) : 0,
      passkeys: await countPasskeys(db, user.id),
    },
    you: await isOwnAccount(db, user.id, by),
    lastAdmin: soleAdmin && !user.disabled && user.hasPassword && user.effectiveRoles.includes(ADMIN_ROLE),
  };
}

/** A user as the API and the CLI list it: the profile and its state, read now. */
export async function userListItem(db: pg.Pool, user: User, by: AdminActor, soleAdmin: boolean) {
  const view = await userView(db, user);
  return { ...view, ...(await userState(db, view, by, soleAdmin)) };
}

/** Lifts a brute-force lockout of a local account (the API's unlock; the CLI's takes any name). */
export async function unlockUser(pool: pg.Pool, id: string, by: AdminActor = CLI_ACTOR): Promise<User> {
  const user = await findUserById(pool, id);
  if (!user) throw notFound(`user ${id} does not exist`);
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
