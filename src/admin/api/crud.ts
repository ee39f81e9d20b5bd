import type { z } from 'zod';
import { mergePatch, withoutReadOnly, withPathId } from '../validation.ts';
import { catalogListQuery, pageOf } from './list-page.ts';
import type { AdminCall, AdminReply, AdminRoute } from './route.ts';
import { listOf } from './views.ts';

/**
 * The body of a PUT: members the server sets are dropped (so a GET's body can be sent back), and
 * the identifiers come from the URL.
 */
export function replacementBody(call: AdminCall, readOnly: readonly string[], ids: Record<string, string>) {
  let body = withoutReadOnly(call.body, readOnly);
  for (const [field, id] of Object.entries(ids)) body = withPathId(body, field, id);
  return body;
}

/**
 * A PATCH (RFC 7396 merge patch) as the PUT it amounts to: the patch applied to the current
 * representation. With `If-Match: *` the version read here is the one that must still be current.
 */
export function patchedCall(call: AdminCall, current: { view: unknown; etag: string }): AdminCall {
  return {
    ...call,
    body: mergePatch(current.view, call.body ?? {}),
    ifMatch: call.ifMatch?.trim() === '*' ? current.etag : call.ifMatch,
  };
}

export interface Versioned {
  view: unknown;
  etag: string;
  /** Members only this response carries (a generated secret, a test report). */
  extra?: Record<string, unknown>;
}

/** The list, create, read, replace, patch and delete operations of one kind of entity. */
export interface EntitySpec {
  tag: string;
  /** `roles` → operationIds listRoles, createRole, getRole… */
  singular: string;
  plural: string;
  collectionPath: string;
  itemPath: string;
  params: Record<string, string>;
  /** Body members that come from the path: body member → path parameter. */
  idFields: Record<string, string>;
  readOnly: readonly string[];
  view: z.ZodType;
  createView?: z.ZodType;
  input: z.ZodType;
  patch: z.ZodType;
  listQuery?: z.ZodObject;
  /** Whether changes alter what the OIDC runtime holds (the catalog), so this process reloads. */
  reloads: boolean;
  /** Query parameters of create, replace and patch. */
  writeQuery?: z.ZodObject;
  summaries: { list: string; create: string; replace: string; remove: string };
  descriptions?: { create?: string; replace?: string };
  list(call: AdminCall): Promise<{ items: unknown[]; next?: string | null }>;
  create(call: AdminCall): Promise<Versioned>;
  read(call: AdminCall): Promise<Versioned>;
  replace(call: AdminCall, body: unknown): Promise<Versioned>;
  remove(call: AdminCall): Promise<void>;
}

const capitalised = (word: string) => word[0]!.toUpperCase() + word.slice(1);

export function entityRoutes(spec: EntitySpec): AdminRoute[] {
  const ids = (call: AdminCall) =>
    Object.fromEntries(Object.entries(spec.idFields).map(([field, param]) => [field, call.params[param]!]));
  const reply = ({ view, etag, extra }: Versioned, status = 200): AdminReply => ({
    status,
    body: { ...(view as object), ...extra },
    etag,
  });
  const replace = async (call: AdminCall) =>
    reply(await spec.replace(call, replacementBody(call, spec.readOnly, ids(call))));
  const one = capitalised(spec.singular);
  return [
    {
      method: 'get',
      path: spec.collectionPath,
      operationId: `list${capitalised(spec.plural)}`,
      summary: spec.summaries.list,
      tag: spec.tag,
      // Lists without a query of their own are the catalog's, kept whole: paged and searched here.
      query: spec.listQuery ?? catalogListQuery,
      response: { status: 200, description: `The ${spec.plural}`, schema: listOf(spec.view) },
      errors: [400, 422],
      handle: async (call) =>
        spec.listQuery
          ? { body: await spec.list(call) }
          : { body: pageOf((await spec.list(call)).items, call.query) },
    },
    {
      method: 'post',
      path: spec.collectionPath,
      operationId: `create${one}`,
      reloads: spec.reloads,
      ...(spec.writeQuery && { query: spec.writeQuery }),
      summary: spec.summaries.create,
      ...(spec.descriptions?.create && { description: spec.descriptions.create }),
      tag: spec.tag,
      body: spec.input,
      bodyRequired: true,
      response: { status: 201, description: `The ${spec.singular}`, schema: spec.createView ?? spec.view },
      errors: [400, 409, 415, 422],
      handle: async (call) => {
        const created = await spec.create(call);
        const path = spec.itemPath.replace(/\{(\w+)\}/g, (_, param: string) =>
          encodeURIComponent(String((created.view as Record<string, unknown>)[fieldOf(spec, param)])),
        );
        return { ...reply(created, 201), location: path };
      },
    },
    {
      method: 'get',
      path: spec.itemPath,
      operationId: `get${one}`,
      summary: `Read a ${spec.singular}`,
      tag: spec.tag,
      params: spec.params,
      etag: 'read',
      response: { status: 200, description: `The ${spec.singular}`, schema: spec.view },
      errors: [404],
      handle: async (call) => reply(await spec.read(call)),
    },
    {
      method: 'put',
      path: spec.itemPath,
      operationId: `replace${one}`,
      reloads: spec.reloads,
      ...(spec.writeQuery && { query: spec.writeQuery }),
      summary: spec.summaries.replace,
      ...(spec.descriptions?.replace && { description: spec.descriptions.replace }),
      tag: spec.tag,
      params: spec.params,
      body: spec.input,
      bodyRequired: true,
      etag: 'write',
      response: { status: 200, description: `The ${spec.singular}`, schema: spec.createView ?? spec.view },
      errors: [400, 404, 409, 412, 415, 422, 428],
      handle: replace,
    },
    {
      method: 'patch',
      path: spec.itemPath,
      operationId: `patch${one}`,
      reloads: spec.reloads,
      ...(spec.writeQuery && { query: spec.writeQuery }),
      summary: `Change some members of a ${spec.singular} (JSON merge patch, RFC 7396)`,
      tag: spec.tag,
      params: spec.params,
      body: spec.patch,
      bodyRequired: true,
      etag: 'write',
      response: { status: 200, description: `The ${spec.singular}`, schema: spec.createView ?? spec.view },
      errors: [400, 404, 409, 412, 415, 422, 428],
      handle: async (call) => replace(patchedCall(call, await spec.read(call))),
    },
    {
      method: 'delete',
      path: spec.itemPath,
      operationId: `delete${one}`,
      reloads: spec.reloads,
      summary: spec.summaries.remove,
      tag: spec.tag,
      params: spec.params,
      etag: 'write',
      response: { status: 204, description: 'Deleted' },
      errors: [404, 409, 412, 428],
      handle: async (call) => {
        await spec.remove(call);
        return { status: 204 };
      },
    },
  ];
}

const fieldOf = (spec: EntitySpec, param: string) =>
  Object.entries(spec.idFields).find(([, each]) => each === param)?.[0] ?? param;
