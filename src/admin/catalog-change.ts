import type pg from 'pg';
import { conflict, notFound } from '../observability/errors.ts';
import { lockCatalogForWrite, type ManagedBy } from '../store/catalog-repositories.ts';
import { notifyChange } from '../store/change-feed.ts';
import { tx } from '../store/pool.ts';
import { keepingAdminSignIn } from './admin-sign-in.ts';
import { assertCurrentVersion, entityTag } from './entity-tag.ts';

/** Who owns an entity as the API shows it: the declarative file, Lock itself, or admins (null). */
export type Owner = ManagedBy | 'builtin';

/**
 * An admin change to the catalog: one transaction, serialised with every other catalog change
 * (API, CLI, declarative apply), refused when it would leave no lock_admin able to sign in, and
 * every Lock process on the database reloads when it commits.
 */
export async function changeCatalog<T>(pool: pg.Pool, change: (db: pg.PoolClient) => Promise<T>): Promise<T> {
  return tx(pool, async (db) => {
    await lockCatalogForWrite(db);
    const result = await keepingAdminSignIn(db, () => change(db));
    await notifyChange(db, 'catalog');
    return result;
  });
}

/**
 * The entity an admin wants to change, checked: it exists, If-Match names its current version,
 * and admins own it (the file's entities change in the file; Lock's own ones do not change).
 */
export function changeable<T extends { managedBy: Owner }>(
  current: T | undefined,
  what: string,
  ifMatch: string | undefined,
): T {
  if (!current) throw notFound(`${what} does not exist`);
  assertCurrentVersion(entityTag(current), ifMatch, what);
  if (current.managedBy === 'config')
    throw conflict(
      `${what} is managed by the declarative configuration file (LOCK_CONFIG): change it there and apply it`,
    );
  if (current.managedBy === 'builtin') throw conflict(`${what} is built into Lock and cannot change`);
  return current;
}

/** Names the references that keep an entity from being deleted. */
export function assertUnreferenced(what: string, references: string[]): void {
  if (references.length > 0)
    throw conflict(`${what} is still used by ${references.join(', ')}: change those first`);
}
