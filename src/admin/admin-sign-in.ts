import { connectorsInEffect } from '../connectors/registry.ts';
import { ADMIN_ROLE } from '../model/admin-role.ts';
import { LockError } from '../observability/errors.ts';
import { countLocalAccountsHoldingRole } from '../store/admin-sign-in.ts';
import { listConnectors, listRoleMappings, lockCatalogForWrite } from '../store/catalog-repositories.ts';
import type { Queryable } from '../store/pool.ts';

/** The role that administers Lock (admin API, console). */

/** A change refused because afterwards no one holding lock_admin could sign in. */
export class AdminLockoutError extends LockError {
  override name = 'AdminLockoutError';
  constructor(message: string) {
    super('conflict', message);
  }
}

/**
 * The ways someone holding lock_admin can still sign in: enabled local accounts with a password
 * that hold it (while Lock's own accounts are on), and role mappings that give it to a group of an
 * enabled directory or IdP connector. Lock cannot see who is in a directory group: such a mapping
 * counts as a way in.
 */
export async function adminSignInPaths(db: Queryable): Promise<string[]> {
  const connectors = connectorsInEffect(await listConnectors(db));
  const paths: string[] = [];
  const local = connectors.find((connector) => connector.type === 'local');
  if (local) {
    const accounts = await countLocalAccountsHoldingRole(db, ADMIN_ROLE);
    if (accounts > 0) paths.push(`${accounts} local account(s) through connector ${local.id}`);
  }
  const upstream = new Set(connectors.filter((each) => each.type !== 'local').map((each) => each.id));
  for (const mapping of await listRoleMappings(db))
    if (
      mapping.roles.includes(ADMIN_ROLE) &&
      (mapping.connector === '*' ? upstream.size > 0 : upstream.has(mapping.connector))
    )
      paths.push(`group ${mapping.group} of connector ${mapping.connector}`);
  return paths;
}

/**
 * Runs `change` (inside the caller's transaction) and refuses it when it would leave no one
 * holding lock_admin able to sign in where someone could before: saving a connector that turns
 * local accounts off, disabling or deleting the last admin account, taking its role or group,
 * removing the mapping that gave it. The catalog lock serialises these checks, so two admins
 * removing one admin each cannot both succeed.
 */
export async function keepingAdminSignIn<T>(db: Queryable, change: () => Promise<T>): Promise<T> {
  await lockCatalogForWrite(db);
  const before = await adminSignInPaths(db);
  const result = await change();
  if (before.length > 0 && (await adminSignInPaths(db)).length === 0)
    throw new AdminLockoutError(
      `refused: afterwards no one holding ${ADMIN_ROLE} could sign in (until now: ${before.join('; ')}). ` +
        `Keep Lock's own accounts on (the local connector) with an enabled ${ADMIN_ROLE} account, or map a directory group to ${ADMIN_ROLE} first.`,
    );
  return result;
}
