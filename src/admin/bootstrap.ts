import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ADMIN_ROLE } from '../model/admin-role.ts';
import { hashPassword } from '../security/passwords.ts';
import { ADVISORY_LOCKS, holdTransactionLock } from '../store/advisory-locks.ts';
import { ensureRole } from '../store/catalog-repositories.ts';
import { type Queryable, tx } from '../store/pool.ts';
import {
  countUsersWithRole,
  createUser,
  findCredentials,
  findUserByUsername,
  setPasswordHash,
  setUserDisabled,
  setUserRoles,
  userDirectRoles,
} from '../store/users.ts';
import { CLI_ACTOR, recordAdminChange } from './admin-actor.ts';

export const BOOTSTRAP_ADMIN = 'admin';

/** Where a person administers Lock: the console the start-up message and the landing page point to. */
export const adminConsoleUrl = (issuer: string) => `${issuer}/admin`;

/** The role the admin API requires; it exists before the declarative file can refer to it. */
export async function ensureAdminRole(db: Queryable): Promise<void> {
  await ensureRole(db, ADMIN_ROLE, 'Administers Lock: admin API, console and CLI');
}

/**
 * First start: makes sure someone can administer Lock. When no local account holds `lock_admin`,
 * the account `admin` gets it, with LOCK_BOOTSTRAP_ADMIN_PASSWORD or a generated password that is
 * returned once for the operator to read (it is never logged or stored in clear).
 */
export async function bootstrapAdmin(
  pool: pg.Pool,
  password: string | undefined,
): Promise<{ created: boolean; generatedPassword?: string }> {
  return tx(pool, async (db) => {
    await holdTransactionLock(db, ADVISORY_LOCKS.bootstrapAdmin);
    await ensureAdminRole(db);
    if ((await countUsersWithRole(db, ADMIN_ROLE)) > 0) return { created: false };
    const existing = await findUserByUsername(db, BOOTSTRAP_ADMIN);
    if (existing) return { created: false }; // an operator's own "admin": leave it alone
    const chosen = password ?? randomBytes(18).toString('base64url');
    const user = await createUser(db, {
      username: BOOTSTRAP_ADMIN,
      name: 'Lock administrator',
      passwordHash: await hashPassword(chosen),
    });
    await setUserRoles(db, user.id, [ADMIN_ROLE]);
    return { created: true, ...(password === undefined && { generatedPassword: chosen }) };
  });
}

/**
 * `lock admin bootstrap`: makes sure the account `admin` can administer Lock again: it exists,
 * is enabled and holds lock_admin. Its password becomes `password` when given; a new one is
 * generated (and returned once) when `resetPassword` is set or the account has none.
 */
export async function repairBootstrapAdmin(
  pool: pg.Pool,
  options: { password?: string; resetPassword: boolean },
): Promise<{ created: boolean; repaired: string[]; generatedPassword?: string }> {
  return tx(pool, async (db) => {
    await holdTransactionLock(db, ADVISORY_LOCKS.bootstrapAdmin);
    await ensureAdminRole(db);
    const existing = await findCredentials(db, BOOTSTRAP_ADMIN);
    const generate = options.password === undefined && (options.resetPassword || !existing?.passwordHash);
    const password = options.password ?? (generate ? randomBytes(18).toString('base64url') : undefined);
    const repaired: string[] = [];
    let user = existing?.user;
    if (!user) {
      user = await createUser(db, {
        username: BOOTSTRAP_ADMIN,
        name: 'Lock administrator',
        passwordHash: await hashPassword(password!),
      });
    } else {
      if (user.disabled) {
        await setUserDisabled(db, user.id, false);
        repaired.push('enabled the account');
      }
      if (password !== undefined) {
        await setPasswordHash(db, user.id, await hashPassword(password));
        repaired.push('set a new password');
      }
    }
    const roles = await userDirectRoles(db, user.id);
    if (!roles.includes(ADMIN_ROLE)) {
      await setUserRoles(db, user.id, [...roles, ADMIN_ROLE]);
      if (existing) repaired.push(`granted ${ADMIN_ROLE}`);
    }
    await recordAdminChange(db, CLI_ACTOR, {
      type: existing ? 'admin.bootstrap.repaired' : 'admin.bootstrap.created',
      subject: BOOTSTRAP_ADMIN,
      details: { repaired },
    });
    return { created: !existing, repaired, ...(generate && { generatedPassword: password! }) };
  });
}
