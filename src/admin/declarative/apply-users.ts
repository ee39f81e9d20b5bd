import type pg from 'pg';
import { ConfigError } from '../../config/schema-errors.ts';
import type { UserDecl } from '../../model/user.ts';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../security/passwords.ts';
import {
  createUser,
  deleteUser,
  findCredentials,
  listUsers,
  setPasswordHash,
  setUserDisabled,
  setUserGroups,
  setUserManagedBy,
  setUserRoles,
  updateUserProfile,
  userDirectRoles,
  userGroupsAndRoles,
} from '../../store/users.ts';
import type { ApplySummary } from './apply-summary.ts';

/**
 * Local accounts declared in the file (dev/test seeding): created or brought in line, passwords
 * hashed here and never stored as given; accounts an earlier apply created and the file dropped
 * are removed; accounts admins created are left alone unless the file names them.
 */
export async function applyDeclaredUsers(
  db: pg.PoolClient,
  users: UserDecl[],
  summary: ApplySummary,
): Promise<void> {
  const problems = users.flatMap((user, index) => {
    const policy = user.password === undefined ? undefined : checkPasswordPolicy(user.password);
    return policy && !policy.ok ? [`users[${index}].password: ${policy.reason}`] : [];
  });
  if (problems.length > 0) throw new ConfigError('the declarative configuration', problems);

  const declared = new Set(users.map((user) => user.username.toLowerCase()));
  for (const user of users) {
    const key = `user ${user.username}`;
    const existing = await findCredentials(db, user.username);
    if (!existing) {
      const created = await createUser(db, {
        username: user.username,
        ...(user.email !== undefined && { email: user.email }),
        ...(user.name !== undefined && { name: user.name }),
        ...((user.password !== undefined || user.passwordHash !== undefined) && {
          passwordHash: user.passwordHash ?? (await hashPassword(user.password!)),
        }),
        disabled: user.disabled,
        managedBy: 'config',
      });
      await setUserGroups(db, created.id, user.groups);
      await setUserRoles(db, created.id, user.roles);
      summary.created.push(key);
      continue;
    }
    const { user: current, passwordHash } = existing;
    const memberships = await userGroupsAndRoles(db, current.id);
    let changed = current.managedBy !== 'config';
    if (current.email !== user.email || current.name !== user.name) {
      await updateUserProfile(db, current.id, {
        ...(user.email !== undefined && { email: user.email }),
        ...(user.name !== undefined && { name: user.name }),
      });
      changed = true;
    }
    const passwordCurrent =
      user.passwordHash !== undefined
        ? user.passwordHash === passwordHash
        : user.password !== undefined
          ? passwordHash !== null && (await verifyPassword(passwordHash, user.password)).valid
          : passwordHash === null;
    if (!passwordCurrent) {
      await setPasswordHash(
        db,
        current.id,
        user.passwordHash ?? (user.password === undefined ? null : await hashPassword(user.password)),
      );
      changed = true;
    }
    if (current.disabled !== user.disabled) {
      await setUserDisabled(db, current.id, user.disabled);
      changed = true;
    }
    if (!sameSet(memberships.groups, user.groups)) {
      await setUserGroups(db, current.id, user.groups);
      changed = true;
    }
    if (!sameSet(await userDirectRoles(db, current.id), user.roles)) {
      await setUserRoles(db, current.id, user.roles);
      changed = true;
    }
    if (changed) {
      await setUserManagedBy(db, current.id, 'config');
      summary.updated.push(key);
    } else summary.unchanged++;
  }
  for (const user of await listUsers(db)) {
    if (user.managedBy !== 'config' || declared.has(user.username.toLowerCase())) continue;
    await deleteUser(db, user.id);
    summary.removed.push(`user ${user.username}`);
  }
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((item) => b.includes(item));
