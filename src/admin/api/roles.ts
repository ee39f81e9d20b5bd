import { createRole, deleteRole, getRole, listRoleViews, replaceRole, roleInputSchema } from '../roles.ts';
import { entityRoutes } from './crud.ts';
import type { AdminRoute } from './route.ts';
import { roleView } from './views.ts';

export const roleRoutes: AdminRoute[] = entityRoutes({
  tag: 'Roles',
  singular: 'role',
  plural: 'roles',
  collectionPath: '/roles',
  itemPath: '/roles/{name}',
  params: { name: 'the role name' },
  idFields: { name: 'name' },
  readOnly: ['managedBy'],
  reloads: true,
  view: roleView,
  input: roleInputSchema,
  patch: roleInputSchema.partial(),
  summaries: {
    list: 'List roles in priority order (the order of a person’s roles claim); `position` is the place in it, 0 first',
    create: 'Create a role (last in priority unless `position` says otherwise)',
    replace:
      'Replace a role (its description and position: another position moves it there, the others close up)',
    remove: 'Delete a role that no resource, client or role mapping uses',
  },
  list: async ({ deps }) => ({ items: await listRoleViews(deps.pool) }),
  create: async ({ deps, body, by }) => {
    const { role, etag } = await createRole(deps.pool, body, by);
    return { view: role, etag };
  },
  read: async ({ deps, params }) => {
    const { role, etag } = await getRole(deps.pool, params.name!);
    return { view: role, etag };
  },
  replace: async ({ deps, params, ifMatch, by }, body) => {
    const { role, etag } = await replaceRole(deps.pool, params.name!, body, ifMatch, by);
    return { view: role, etag };
  },
  remove: ({ deps, params, ifMatch, by }) => deleteRole(deps.pool, params.name!, ifMatch, by),
});
