import { z } from 'zod';
import {
  type AuditFilterQuery,
  type AuditQuery,
  auditCsv,
  auditFilterSchema,
  auditQuerySchema,
  listAuditPage,
  signInsPerHour,
} from '../audit-log.ts';
import type { AdminRoute } from './route.ts';
import { auditEventView, component, listOf } from './views.ts';

const signInChartView = component(
  'SignInsPerHour',
  z.object({
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    hours: z
      .array(z.object({ hour: z.iso.datetime({ offset: true }), successes: z.int(), failures: z.int() }))
      .describe('every hour of the range, oldest first'),
  }),
);

export const auditRoutes: AdminRoute[] = [
  {
    method: 'get',
    path: '/audit-events',
    operationId: 'listAuditEvents',
    summary:
      'Read the audit log, newest first: filter by time range, actor, type and outcome; follow `next` for older events',
    tag: 'Audit',
    query: auditQuerySchema,
    response: { status: 200, description: 'A page of events', schema: listOf(auditEventView) },
    errors: [400, 422],
    handle: async ({ deps, query }) => ({ body: await listAuditPage(deps.pool, query as AuditQuery) }),
  },
  {
    method: 'get',
    path: '/audit-events.csv',
    operationId: 'exportAuditEvents',
    summary:
      'The audit log as CSV (newest first, at most 10 000 rows) with the list’s filters; cells a spreadsheet would read as formulas are prefixed with an apostrophe',
    tag: 'Audit',
    query: auditFilterSchema,
    response: { status: 200, description: 'CSV, one event per row', contentType: 'text/csv' },
    errors: [400],
    handle: async ({ deps, query }) => ({
      body: await auditCsv(deps.pool, query as AuditFilterQuery),
      contentType: 'text/csv; charset=utf-8',
      headers: { 'Content-Disposition': 'attachment; filename="lock-audit.csv"' },
    }),
  },
  {
    method: 'get',
    path: '/audit-events/sign-ins-per-hour',
    operationId: 'signInsPerHour',
    summary:
      'Sign-ins and failed sign-ins per hour over the last seven days, counted from the audit log (a repeated failure as often as it happened)',
    tag: 'Audit',
    response: { status: 200, description: 'Counts per hour', schema: signInChartView },
    errors: [],
    handle: async ({ deps }) => ({ body: await signInsPerHour(deps.pool, deps.now()) }),
  },
];
