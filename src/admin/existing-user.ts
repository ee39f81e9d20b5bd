import { notFound } from '../observability/errors.ts';
import type { Queryable } from '../store/pool.ts';
import { findUserById, type User } from '../store/users.ts';

/** The local user `id` names, or the admin API's 404. */
export async function existingUser(db: Queryable, id: string): Promise<User> {
  const user = await findUserById(db, id);
  if (!user) throw notFound(`user ${id} does not exist`);
  return user;
}
