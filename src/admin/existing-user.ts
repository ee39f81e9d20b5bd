import { notFound } from '../observability/errors.ts';
import type { Queryable } from '../store/pool.ts';
import { findUserById, findUserByUsername, type User } from '../store/users.ts';

/** The local user `id` names, or the admin API's 404. */
export async function existingUser(db: Queryable, id: string): Promise<User> {
  const user = await findUserById(db, id);
  if (!user) throw notFound(`user ${id} does not exist`);
  return user;
}

/** The local user named `username`, or the error naming it (the CLI's commands take names). */
export async function existingUserNamed(db: Queryable, username: string): Promise<User> {
  const user = await findUserByUsername(db, username);
  if (!user) throw notFound(`no local user named "${username}"`);
  return user;
}
