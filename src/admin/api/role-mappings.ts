import { roleMappingSchema } from '../../model/role-mapping.ts';
import {
  createRoleMapping,
  deleteRoleMapping,
  getRoleMapping,
  listRoleMappingViews,
  replaceRoleMapping,
} from '../role-mappings.ts';
import { entityRoutes } from './crud.ts';
import type { AdminCall, AdminRoute } from './route.ts';
import { roleMappingView } from './views.ts';

const key = ({ params }: AdminCall) => ({ connector: params.connector!, group: params.group! });

export const roleMappingRoutes: AdminRoute[] = entityRoutes({
  tag: 'Role mappings',
  singular: 'roleMapping',
  plural: 'roleMappings',
  collectionPath: '/role-mappings',
  itemPath: '/role-mappings/{connector}/{group}',
  params: {
    connector: 'the connector id, or * for any connector',
    group: 'the upstream group (e.g. an LDAP DN), percent-encoded',
  },
  idFields: { connector: 'connector', group: 'group' },
  readOnly: ['managedBy'],
  reloads: true,
  view: roleMappingView,
  input: roleMappingSchema,
  patch: roleMappingSchema.partial(),
  summaries: {
    list: 'List role mappings (upstream group → roles)',
    create: 'Map an upstream group of a connector (or of any: *) to roles',
    replace: 'Replace the roles a group maps to',
    remove: 'Delete a role mapping',
  },
  list: async ({ deps }) => ({ items: await listRoleMappingViews(deps.pool) }),
  create: async ({ deps, body, by }) => {
    const { mapping, etag } = await createRoleMapping(deps.pool, body, by);
    return { view: mapping, etag };
  },
  read: async (call) => {
    const { mapping, etag } = await getRoleMapping(
      call.deps.pool,
      call.params.connector!,
      call.params.group!,
    );
    return { view: mapping, etag };
  },
  replace: async (call, body) => {
    const { mapping, etag } = await replaceRoleMapping(
      call.deps.pool,
      key(call),
      body,
      call.ifMatch,
      call.by,
    );
    return { view: mapping, etag };
  },
  remove: (call) => deleteRoleMapping(call.deps.pool, key(call), call.ifMatch, call.by),
});
