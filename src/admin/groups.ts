import type pg from 'pg';
import { z } from 'zod';
import { groupNameSchema } from '../model/user.ts';
import { fieldError, notFound } from '../observability/errors.ts';
import {
  addGroupMember,
  createGroup as createStoredGroup,
  deleteGroup as deleteStoredGroup,
  findGroup,
  listGroupMembers,
  removeGroupMember,
} from '../store/groups.ts';
import { ConflictError, type Queryable, tx } from '../store/pool.ts';
import { findUserById } from '../store/users.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { keepingAdminSignIn } from './admin-sign-in.ts';
import { assertCurrentVersion, entityTag } from './entity-tag.ts';
import { parseInput } from './validation.ts';

/**
 * Admin operations on local accounts' groups and their members. Groups map to roles through role
 * mappings of the `local` connector (or `*`); logins read them from the database, so no reload.
 */

export const groupInputSchema = z.strictObject({ name: groupNameSchema });

export async function getGroup(db: Queryable, name: string) {
  const group = await findGroup(db, name);
  if (!group) throw notFound(`group "${name}" does not exist`);
  const view = { ...group, members: await listGroupMembers(db, name) };
  return { group: view, etag: entityTag(view) };
}

export async function createGroup(pool: pg.Pool, input: unknown, by: AdminActor) {
  const { name } = parseInput(groupInputSchema, input);
  return tx(pool, async (db) => {
    try {
      await createStoredGroup(db, name);
    } catch (error) {
      if (error instanceof ConflictError) throw fieldError('name', error.message, 409);
      throw error;
    }
    await recordAdminChange(db, by, { type: 'admin.group.created', subject: name });
    return getGroup(db, name);
  });
}

/** Removes the group; its members lose it (and the roles it mapped to). */
export async function deleteGroup(pool: pg.Pool, name: string, ifMatch: string | undefined, by: AdminActor) {
  await tx(pool, (db) =>
    keepingAdminSignIn(db, async () => {
      if (!(await findGroup(db, name, true))) throw notFound(`group "${name}" does not exist`);
      const { etag, group } = await getGroup(db, name);
      assertCurrentVersion(etag, ifMatch, `group "${name}"`);
      await deleteStoredGroup(db, name);
      await recordAdminChange(db, by, {
        type: 'admin.group.deleted',
        subject: name,
        details: { members: group.members.map((member) => member.username) },
      });
    }),
  );
}

/** Adds or removes a member; idempotent, so it needs no If-Match. Returns whether anything changed. */
export async function setGroupMembership(
  pool: pg.Pool,
  name: string,
  userId: string,
  member: boolean,
  by: AdminActor,
): Promise<boolean> {
  return tx(pool, (db) =>
    keepingAdminSignIn(db, async () => {
      if (!(await findGroup(db, name, true))) throw notFound(`group "${name}" does not exist`);
      const user = await findUserById(db, userId);
      if (!user) throw notFound(`user ${userId} does not exist`);
      const changed = member
        ? await addGroupMember(db, name, userId)
        : await removeGroupMember(db, name, userId);
      if (changed)
        await recordAdminChange(db, by, {
          type: member ? 'admin.group.member_added' : 'admin.group.member_removed',
          subject: name,
          details: { userId, username: user.username },
        });
      return changed;
    }),
  );
}
