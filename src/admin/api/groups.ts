import { listGroups } from '../../store/groups.ts';
import { createGroup, deleteGroup, getGroup, groupInputSchema, setGroupMembership } from '../groups.ts';
import { catalogListQuery, pageOf } from './list-page.ts';
import { type AdminRoute, segment } from './route.ts';
import { groupSummaryView, groupView, listOf } from './views.ts';

const params = { name: 'the group name, percent-encoded' };
const memberParams = { ...params, userId: 'the user id (uuid)' };

export const groupRoutes: AdminRoute[] = [
  {
    method: 'get',
    path: '/groups',
    operationId: 'listGroups',
    summary: 'List local accounts’ groups with their member counts',
    tag: 'Groups',
    query: catalogListQuery,
    response: { status: 200, description: 'The groups', schema: listOf(groupSummaryView) },
    errors: [400, 422],
    handle: async ({ deps, query }) => ({ body: pageOf(await listGroups(deps.pool), query) }),
  },
  {
    method: 'post',
    path: '/groups',
    operationId: 'createGroup',
    summary: 'Create a group',
    tag: 'Groups',
    body: groupInputSchema,
    bodyRequired: true,
    response: { status: 201, description: 'The group', schema: groupView },
    errors: [400, 409, 415, 422],
    handle: async ({ deps, body, by }) => {
      const { group, etag } = await createGroup(deps.pool, body, by);
      return { status: 201, body: group, etag, location: `/groups/${segment(group.name)}` };
    },
  },
  {
    method: 'get',
    path: '/groups/{name}',
    operationId: 'getGroup',
    summary: 'Read a group with its members',
    tag: 'Groups',
    params,
    etag: 'read',
    response: { status: 200, description: 'The group', schema: groupView },
    errors: [404],
    handle: async ({ deps, params }) => {
      const { group, etag } = await getGroup(deps.pool, params.name!);
      return { body: group, etag };
    },
  },
  {
    method: 'delete',
    path: '/groups/{name}',
    operationId: 'deleteGroup',
    summary: 'Delete a group (its members lose it and the roles it maps to)',
    tag: 'Groups',
    params,
    etag: 'write',
    response: { status: 204, description: 'Deleted' },
    errors: [404, 412, 428],
    handle: async ({ deps, params, ifMatch, by }) => {
      await deleteGroup(deps.pool, params.name!, ifMatch, by);
      return { status: 204 };
    },
  },
  {
    method: 'put',
    path: '/groups/{name}/members/{userId}',
    operationId: 'addGroupMember',
    summary: 'Make a user a member of the group (idempotent: no If-Match needed)',
    tag: 'Groups',
    params: memberParams,
    response: { status: 200, description: 'The group', schema: groupView },
    errors: [404],
    handle: async ({ deps, params, by }) => {
      await setGroupMembership(deps.pool, params.name!, params.userId!, true, by);
      const { group, etag } = await getGroup(deps.pool, params.name!);
      return { body: group, etag };
    },
  },
  {
    method: 'delete',
    path: '/groups/{name}/members/{userId}',
    operationId: 'removeGroupMember',
    summary: 'Remove a user from the group (idempotent: no If-Match needed)',
    tag: 'Groups',
    params: memberParams,
    response: { status: 200, description: 'The group', schema: groupView },
    errors: [404],
    handle: async ({ deps, params, by }) => {
      await setGroupMembership(deps.pool, params.name!, params.userId!, false, by);
      const { group, etag } = await getGroup(deps.pool, params.name!);
      return { body: group, etag };
    },
  },
];
