import type pg from 'pg';
import { builtInCatalog } from '../catalog/built-ins.ts';
import { type ResourceDecl, resourceSchema } from '../model/resource.ts';
import { fieldError, notFound } from '../observability/errors.ts';
import {
  deleteResource as deleteStoredResource,
  listClients,
  listResources,
  upsertResource,
} from '../store/catalog-repositories.ts';
import type { Queryable } from '../store/pool.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { assertUnreferenced, changeable, changeCatalog, type Owner } from './catalog-change.ts';
import { changedFields } from './changes.ts';
import { entityTag } from './entity-tag.ts';
import { assertRolesExist } from './roles.ts';
import { parseInput } from './validation.ts';

/** Admin operations on resources (the APIs that accept Lock's access tokens). */

export type ResourceView = ResourceDecl & { managedBy: Owner };

/** Stored resources and Lock's own admin API (read-only), by id. */
export async function listResourceViews(db: Queryable, issuer: string): Promise<ResourceView[]> {
  const builtIns = builtInCatalog(issuer).resources.map((resource) => ({
    ...resource,
    managedBy: 'builtin' as const,
  }));
  const stored = (await listResources(db)).filter((resource) => !builtIns.some((b) => b.id === resource.id));
  return [...builtIns, ...stored].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function findResourceView(db: Queryable, issuer: string, id: string) {
  return (await listResourceViews(db, issuer)).find((resource) => resource.id === id);
}

export async function getResource(db: Queryable, issuer: string, id: string) {
  const resource = await findResourceView(db, issuer, id);
  if (!resource) throw notFound(`resource "${id}" does not exist`);
  return { resource, etag: entityTag(resource) };
}

export async function createResource(pool: pg.Pool, issuer: string, input: unknown, by: AdminActor) {
  const resource = parseInput(resourceSchema, input);
  return changeCatalog(pool, async (db) => {
    if (await findResourceView(db, issuer, resource.id))
      throw fieldError('id', `a resource "${resource.id}" already exists`, 409);
    await assertRolesExist(db, resource.roles, 'roles');
    await upsertResource(db, resource, null);
    await recordAdminChange(db, by, {
      type: 'admin.resource.created',
      subject: resource.id,
      details: { resource },
    });
    return getResource(db, issuer, resource.id);
  });
}

export async function replaceResource(
  pool: pg.Pool,
  issuer: string,
  id: string,
  input: unknown,
  ifMatch: string | undefined,
  by: AdminActor,
) {
  const resource = parseInput(resourceSchema, input);
  return changeCatalog(pool, async (db) => {
    const { managedBy: _, ...before } = changeable(
      await findResourceView(db, issuer, id),
      `resource "${id}"`,
      ifMatch,
    );
    await assertRolesExist(db, resource.roles, 'roles');
    await upsertResource(db, resource, null);
    await recordAdminChange(db, by, {
      type: 'admin.resource.updated',
      subject: id,
      details: { changes: changedFields(before, resource) },
    });
    return getResource(db, issuer, id);
  });
}

export async function deleteResource(
  pool: pg.Pool,
  issuer: string,
  id: string,
  ifMatch: string | undefined,
  by: AdminActor,
) {
  await changeCatalog(pool, async (db) => {
    changeable(await findResourceView(db, issuer, id), `resource "${id}"`, ifMatch);
    const clients = (await listClients(db)).filter((client) =>
      [
        ...client.resources,
        ...client.introspects,
        ...(client.tokenExchange?.subjectAudiences ?? []),
      ].includes(id),
    );
    assertUnreferenced(
      `resource "${id}"`,
      clients.map((client) => `client ${client.clientId}`),
    );
    await deleteStoredResource(db, id);
    await recordAdminChange(db, by, { type: 'admin.resource.deleted', subject: id });
  });
}

/** Fails the change when a client names a resource that does not exist (Lock's own counts). */
export async function assertResourcesExist(
  db: Queryable,
  issuer: string,
  resources: string[],
  field: string,
): Promise<void> {
  const known = new Set((await listResourceViews(db, issuer)).map((resource) => resource.id));
  const index = resources.findIndex((resource) => !known.has(resource));
  if (index >= 0) throw fieldError(`${field}[${index}]`, `unknown resource "${resources[index]}"`);
}
