import { z } from 'zod';
import { invalidInput } from '../observability/errors.ts';
import { listAuditEvents, type StoredAuditEvent } from '../store/audit-events.ts';
import type { Queryable } from '../store/pool.ts';

/** Reading the audit log: newest first, filtered, a page at a time. */

export const auditQuerySchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('events at or after this instant'),
  to: z.iso.datetime({ offset: true }).optional().describe('events before this instant'),
  actor: z.string().min(1).max(256).optional().describe('who acted: a sub, a client id, "cli", "config"'),
  type: z
    .string()
    .regex(/^[a-z0-9_.]+\*?$/, 'must be an event type, or a prefix ending in * (admin.*)')
    .optional()
    .describe('an event type (admin.client.created), or a prefix ending in * (admin.*)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional().describe('the `next` of the previous page'),
});

export type AuditQuery = z.output<typeof auditQuerySchema>;

const encodeCursor = (id: string) => Buffer.from(`audit:${id}`).toString('base64url');

function decodeCursor(cursor: string): string {
  const id = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))?.[1];
  if (id === undefined)
    throw invalidInput([{ path: 'cursor', message: 'is not a cursor this API gave out' }], 400);
  return id;
}

export async function listAuditPage(
  db: Queryable,
  query: AuditQuery,
): Promise<{ items: StoredAuditEvent[]; next: string | null }> {
  const prefix = query.type?.endsWith('*') ? query.type.slice(0, -1) : undefined;
  const items = await listAuditEvents(db, {
    ...(query.from !== undefined && { from: new Date(query.from) }),
    ...(query.to !== undefined && { to: new Date(query.to) }),
    ...(query.actor !== undefined && { actor: query.actor }),
    ...(query.type !== undefined && (prefix === undefined ? { type: query.type } : { typePrefix: prefix })),
    ...(query.cursor !== undefined && { beforeId: decodeCursor(query.cursor) }),
    limit: query.limit + 1,
  });
  const page = items.slice(0, query.limit);
  return { items: page, next: items.length > query.limit ? encodeCursor(page.at(-1)!.id) : null };
}
