import { type AuditQuery, auditQuerySchema, listAuditPage } from '../audit-log.ts';
import type { AdminRoute } from './route.ts';
import { auditEventView, listOf } from './views.ts';

export const auditRoutes: AdminRoute[] = [
  {
    method: 'get',
    path: '/audit-events',
    operationId: 'listAuditEvents',
    summary:
      'Read the audit log, newest first: filter by time range, actor and type; follow `next` for older events',
    tag: 'Audit',
    query: auditQuerySchema,
    response: { status: 200, description: 'A page of events', schema: listOf(auditEventView) },
    errors: [400, 422],
    handle: async ({ deps, query }) => ({ body: await listAuditPage(deps.pool, query as AuditQuery) }),
  },
];
