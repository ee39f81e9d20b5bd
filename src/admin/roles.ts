import type pg from 'pg';
import { z } from 'zod';
import { ADMIN_ROLE } from '../model/admin-role.ts';
import { type RoleDecl, roleSchema } from '../model/role.ts';
import { conflict, fieldError, notFound } from '../observability/errors.ts';
import {
  deleteRole as deleteStoredRole,
  listClients,
  listResources,
  listRoleMappings,
  listRoles,
  type Managed,
  nextPosition,
  setRolePositions,
  upsertRole,
} from '../store/catalog-repositories.ts';
import type { Queryable } from '../store/pool.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { assertUnreferenced, changeable, changeCatalog } from './catalog-change.ts';
import { changedFields } from './changes.ts';
import { entityTag } from './entity-tag.ts';
import { parseInput } from './validation.ts';

/**
 * Admin operations on roles. Their order is the order of a person's `roles` claim (a resource's
 * own `roles` list orders its access tokens and picks its single role claim). A role's `position`
 * as the API shows it is its place in that order, 0 first, with no gaps or ties whatever the stored
 * numbers are (the declarative file numbers its own roles from 0, admins' roles go after the last).
 */

export type RoleView = Managed<RoleDecl & { position: number }>;

/** The declarative schema, plus where the role goes in priority order (last when left out). */
export const roleInputSchema = roleSchema.extend({ position: z.int().min(0).max(1_000_000).optional() });

export async function listRoleViews(db: Queryable): Promise<RoleView[]> {
  return (await listRoles(db)).map((role, position) => ({ ...role, position }));
}

/** Puts `name` at `position` (0 first; past the end: last) and numbers every role by its place. */
async function moveRole(db: Queryable, name: string, position: number): Promise<void> {
  const order = (await listRoles(db)).map((role) => role.name).filter((each) => each !== name);
  order.splice(Math.min(position, order.length), 0, name);
  await setRolePositions(db, order);
}

export async function findRoleView(db: Queryable, name: string): Promise<RoleView | undefined> {
  return (await listRoleViews(db)).find((role) => role.name === name);
}

export async function getRole(db: Queryable, name: string): Promise<{ role: RoleView; etag: string }> {
  const role = await findRoleView(db, name);
  if (!role) throw notFound(`role "${name}" does not exist`);
  return { role, etag: entityTag(role) };
}

export async function createRole(pool: pg.Pool, input: unknown, by: AdminActor) {
  const { position, ...role } = parseInput(roleInputSchema, input);
  return changeCatalog(pool, async (db) => {
    if (await findRoleView(db, role.name))
      throw fieldError('name', `a role "${role.name}" already exists`, 409);
    await upsertRole(db, role, await nextPosition(db, 'roles'), null);
    if (position !== undefined) await moveRole(db, role.name, position);
    await recordAdminChange(db, by, { type: 'admin.role.created', subject: role.name, details: { role } });
    return getRole(db, role.name);
  });
}

export async function replaceRole(
  pool: pg.Pool,
  name: string,
  input: unknown,
  ifMatch: string | undefined,
  by: AdminActor,
) {
  const { position, ...role } = parseInput(roleInputSchema, input);
  return changeCatalog(pool, async (db) => {
    const current = changeable(await findRoleView(db, name), `role "${name}"`, ifMatch);
    const { managedBy: _, ...before } = current;
    const stored = (await listRoles(db)).find((each) => each.name === name)!;
    await upsertRole(db, role, stored.position, null);
    const next = { ...role, position: position ?? current.position };
    if (next.position !== current.position) await moveRole(db, name, next.position);
    await recordAdminChange(db, by, {
      type: 'admin.role.updated',
      subject: name,
      details: { changes: changedFields(before, next) },
    });
    return getRole(db, name);
  });
}

export async function deleteRole(pool: pg.Pool, name: string, ifMatch: string | undefined, by: AdminActor) {
  await changeCatalog(pool, async (db) => {
    changeable(await findRoleView(db, name), `role "${name}"`, ifMatch);
    if (name === ADMIN_ROLE)
      throw conflict(`role "${name}" is what the admin API and console require: it cannot go`);
    assertUnreferenced(`role "${name}"`, await roleReferences(db, name));
    await deleteStoredRole(db, name);
    await recordAdminChange(db, by, { type: 'admin.role.deleted', subject: name });
  });
}

/** Names fail the whole change when one refers to a role that does not exist. */
export async function assertRolesExist(db: Queryable, roles: string[], field: string): Promise<void> {
  const known = new Set((await listRoles(db)).map((role) => role.name));
  const index = roles.findIndex((role) => !known.has(role));
  if (index >= 0) throw fieldError(`${field}[${index}]`, `unknown role "${roles[index]}"`);
}

async function roleReferences(db: Queryable, name: string): Promise<string[]> {
  const resources = await listResources(db);
  const clients = await listClients(db);
  const mappings = await listRoleMappings(db);
  return [
    ...resources.filter((resource) => resource.roles.includes(name)).map((r) => `resource ${r.id}`),
    ...clients.filter((client) => client.roles.includes(name)).map((c) => `client ${c.clientId}`),
    ...mappings
      .filter((mapping) => mapping.roles.includes(name))
      .map((m) => `role mapping ${m.connector} → ${m.group}`),
  ];
}
