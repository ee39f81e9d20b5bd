import { auditRoutes } from './audit-events.ts';
import { clientRoutes } from './clients.ts';
import { connectorRoutes } from './connectors.ts';
import { groupRoutes } from './groups.ts';
import { keyRoutes } from './keys.ts';
import { resourceRoutes } from './resources.ts';
import { roleMappingRoutes } from './role-mappings.ts';
import { roleRoutes } from './roles.ts';
import type { AdminRoute } from './route.ts';
import { userRoutes } from './users.ts';

/** Every operation of the admin API: what the router serves and the OpenAPI document describes. */
export const RESOURCE_ROUTES: readonly AdminRoute[] = [
  ...roleRoutes,
  ...resourceRoutes,
  ...clientRoutes,
  ...connectorRoutes,
  ...roleMappingRoutes,
  ...userRoutes,
  ...groupRoutes,
  ...keyRoutes,
  ...auditRoutes,
];
