import { resourceSchema } from '../../model/resource.ts';
import {
  createResource,
  deleteResource,
  getResource,
  listResourceViews,
  replaceResource,
} from '../resources.ts';
import { entityRoutes } from './crud.ts';
import type { AdminRoute } from './route.ts';
import { resourceView } from './views.ts';

export const resourceRoutes: AdminRoute[] = entityRoutes({
  tag: 'Resources',
  singular: 'resource',
  plural: 'resources',
  collectionPath: '/resources',
  itemPath: '/resources/{id}',
  params: { id: 'the resource indicator (a URL), percent-encoded' },
  idFields: { id: 'id' },
  readOnly: ['managedBy'],
  reloads: true,
  view: resourceView,
  input: resourceSchema,
  patch: resourceSchema.partial(),
  summaries: {
    list: 'List resources (APIs that accept Lock access tokens), Lock’s own admin API included',
    create: 'Register a resource',
    replace: 'Replace a resource',
    remove: 'Delete a resource that no client uses',
  },
  list: async ({ deps }) => ({ items: await listResourceViews(deps.pool, deps.issuer) }),
  create: async ({ deps, body, by }) => {
    const { resource, etag } = await createResource(deps.pool, deps.issuer, body, by);
    return { view: resource, etag };
  },
  read: async ({ deps, params }) => {
    const { resource, etag } = await getResource(deps.pool, deps.issuer, params.id!);
    return { view: resource, etag };
  },
  replace: async ({ deps, params, ifMatch, by }, body) => {
    const { resource, etag } = await replaceResource(deps.pool, deps.issuer, params.id!, body, ifMatch, by);
    return { view: resource, etag };
  },
  remove: ({ deps, params, ifMatch, by }) => deleteResource(deps.pool, deps.issuer, params.id!, ifMatch, by),
});
