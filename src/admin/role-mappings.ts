import type pg from 'pg';
import { type RoleMappingDecl, roleMappingSchema } from '../model/role-mapping.ts';
import { fieldError, notFound } from '../observability/errors.ts';
import {
  deleteRoleMapping as deleteStoredMapping,
  listConnectors,
  listRoleMappings,
  type Managed,
  upsertRoleMapping,
} from '../store/catalog-repositories.ts';
import type { Queryable } from '../store/pool.ts';
import { LOCAL_CONNECTOR_ID } from '../store/users.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { changeable, changeCatalog } from './catalog-change.ts';
import { changedFields } from './changes.ts';
import { entityTag } from './entity-tag.ts';
import { assertRolesExist } from './roles.ts';
import { parseInput } from './validation.ts';

/** Admin operations on role mappings: an upstream group of a connector (or of any: `*`) → roles. */

export type RoleMappingView = Managed<RoleMappingDecl>;

export const listRoleMappingViews = (db: Queryable): Promise<RoleMappingView[]> => listRoleMappings(db);

const describe = (connector: string, group: string) => `role mapping ${connector} → ${group}`;

async function findMapping(db: Queryable, connector: string, group: string) {
  return (await listRoleMappings(db)).find(
    (mapping) => mapping.connector === connector && mapping.group === group,
  );
}

export async function getRoleMapping(db: Queryable, connector: string, group: string) {
  const mapping = await findMapping(db, connector, group);
  if (!mapping) throw notFound(`${describe(connector, group)} does not exist`);
  return { mapping, etag: entityTag(mapping) };
}

/** `*`, Lock's own accounts, and the configured connectors. */
async function assertConnectorExists(db: Queryable, connector: string): Promise<void> {
  if (connector === '*' || connector === LOCAL_CONNECTOR_ID) return;
  if (!(await listConnectors(db)).some((each) => each.id === connector))
    throw fieldError('connector', `unknown connector "${connector}"`);
}

export async function createRoleMapping(pool: pg.Pool, input: unknown, by: AdminActor) {
  const mapping = parseInput(roleMappingSchema, input);
  return changeCatalog(pool, async (db) => {
    if (await findMapping(db, mapping.connector, mapping.group))
      throw fieldError('group', `${describe(mapping.connector, mapping.group)} already exists`, 409);
    await assertConnectorExists(db, mapping.connector);
    await assertRolesExist(db, mapping.roles, 'roles');
    await upsertRoleMapping(db, mapping, null);
    await recordAdminChange(db, by, {
      type: 'admin.role_mapping.created',
      subject: `${mapping.connector} ${mapping.group}`,
      details: { mapping },
    });
    return getRoleMapping(db, mapping.connector, mapping.group);
  });
}

export async function replaceRoleMapping(
  pool: pg.Pool,
  key: { connector: string; group: string },
  input: unknown,
  ifMatch: string | undefined,
  by: AdminActor,
) {
  const mapping = parseInput(roleMappingSchema, input);
  return changeCatalog(pool, async (db) => {
    const { managedBy: _, ...before } = changeable(
      await findMapping(db, key.connector, key.group),
      describe(key.connector, key.group),
      ifMatch,
    );
    await assertRolesExist(db, mapping.roles, 'roles');
    await upsertRoleMapping(db, mapping, null);
    await recordAdminChange(db, by, {
      type: 'admin.role_mapping.updated',
      subject: `${key.connector} ${key.group}`,
      details: { changes: changedFields(before, mapping) },
    });
    return getRoleMapping(db, key.connector, key.group);
  });
}

export async function deleteRoleMapping(
  pool: pg.Pool,
  key: { connector: string; group: string },
  ifMatch: string | undefined,
  by: AdminActor,
) {
  await changeCatalog(pool, async (db) => {
    changeable(await findMapping(db, key.connector, key.group), describe(key.connector, key.group), ifMatch);
    await deleteStoredMapping(db, key.connector, key.group);
    await recordAdminChange(db, by, {
      type: 'admin.role_mapping.deleted',
      subject: `${key.connector} ${key.group}`,
    });
  });
}
