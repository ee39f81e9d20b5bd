import { z } from 'zod';
import { invalidInput } from '../observability/errors.ts';
import { countSignInsByHour, listAuditEvents, type StoredAuditEvent } from '../store/audit-events.ts';
import type { Queryable } from '../store/pool.ts';

/** Reading the audit log: newest first, filtered, a page at a time. */

/** The filters of the list and of the CSV export. */
export const auditFilterSchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional().describe('events at or after this instant'),
  to: z.iso.datetime({ offset: true }).optional().describe('events before this instant'),
  actor: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('who acted: a sub, a client id, "cli", "config", or the username of the account'),
  type: z
    .string()
    .regex(/^[a-z0-9_.]+\*?$/, 'must be an event type, or a prefix ending in * (admin.*)')
    .optional()
    .describe('an event type (admin.client.created), or a prefix ending in * (admin.*)'),
  outcome: z.enum(['success', 'failure', 'error']).optional().describe('only events with this outcome'),
});

export const auditQuerySchema = auditFilterSchema.extend({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional().describe('the `next` of the previous page'),
});

export type AuditQuery = z.output<typeof auditQuerySchema>;
export type AuditFilterQuery = z.output<typeof auditFilterSchema>;

const encodeCursor = (id: string) => Buffer.from(`audit:${id}`).toString('base64url');

function decodeCursor(cursor: string): string {
  const id = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))?.[1];
  if (id === undefined)
    throw invalidInput([{ path: 'cursor', message: 'is not a cursor this API gave out' }], 400);
  return id;
}

function storeFilter(query: AuditFilterQuery) {
  const prefix = query.type?.endsWith('*') ? query.type.slice(0, -1) : undefined;
  return {
    ...(query.from !== undefined && { from: new Date(query.from) }),
    ...(query.to !== undefined && { to: new Date(query.to) }),
    ...(query.actor !== undefined && { actor: query.actor }),
    ...(query.outcome !== undefined && { outcome: query.outcome }),
    ...(query.type !== undefined && (prefix === undefined ? { type: query.type } : { typePrefix: prefix })),
  };
}

export async function listAuditPage(
  db: Queryable,
  query: AuditQuery,
): Promise<{ items: StoredAuditEvent[]; next: string | null }> {
  const items = await listAuditEvents(db, {
    ...storeFilter(query),
    ...(query.cursor !== undefined && { beforeId: decodeCursor(query.cursor) }),
    limit: query.limit + 1,
  });
  const page = items.slice(0, query.limit);
  return { items: page, next: items.length > query.limit ? encodeCursor(page.at(-1)!.id) : null };
}

/** The most rows one CSV export holds (newest first): narrow the filters for older events. */
export const AUDIT_CSV_MAX_ROWS = 10_000;

const CSV_COLUMNS = [
  ['time', (e: StoredAuditEvent) => e.at.toISOString()],
  ['type', (e) => e.type],
  ['outcome', (e) => e.outcome],
  ['actor', (e) => e.actorName ?? e.actor],
  ['actor_id', (e) => e.actor],
  ['subject', (e) => e.subjectName ?? e.subject],
  ['connector', (e) => e.connector],
  ['client_id', (e) => e.clientId],
  ['address', (e) => e.ip],
  ['reason', (e) => e.reason],
  ['user_agent', (e) => e.userAgent],
  ['request_id', (e) => e.requestId],
  ['details', (e) => JSON.stringify(e.details)],
] as const satisfies ReadonlyArray<readonly [string, (event: StoredAuditEvent) => string | null]>;

/**
 * One CSV cell (RFC 4180): always quoted, quotes doubled. A cell a spreadsheet would run as a
 * formula (starting with = + - @, or a tab or carriage return that hides one) gets a leading `'`,
 * so an attacker's username or user agent cannot become a formula in the admin's spreadsheet.
 */
export function csvCell(value: string | null): string {
  const text = value ?? '';
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** The audit log as CSV, newest first, with the list's filters; at most AUDIT_CSV_MAX_ROWS rows. */
export async function auditCsv(db: Queryable, query: AuditFilterQuery): Promise<string> {
  const events = await listAuditEvents(db, { ...storeFilter(query), limit: AUDIT_CSV_MAX_ROWS });
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const event of events) lines.push(CSV_COLUMNS.map(([, cell]) => csvCell(cell(event))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Sign-in steps after the first factor (counted as sign-ins already) and events that are no attempt. */
const LATER_STEPS = ['login.totp', 'login.totp_enrol'];
const NOT_ATTEMPTS = ['login.totp_enrol'];

/**
 * Sign-ins and failures per hour over the `days` before `now`: every hour of the range, oldest
 * first, hours without events as zeros (the chart draws them as gaps).
 */
export async function signInsPerHour(
  db: Queryable,
  now: Date,
  days = 7,
): Promise<{
  from: string;
  to: string;
  hours: Array<{ hour: string; successes: number; failures: number }>;
}> {
  const HOUR = 3_600_000;
  const to = new Date(Math.floor(now.getTime() / HOUR) * HOUR + HOUR);
  const from = new Date(to.getTime() - days * 24 * HOUR);
  const counted = await countSignInsByHour(db, {
    from,
    to,
    laterSteps: LATER_STEPS,
    notAttempts: NOT_ATTEMPTS,
  });
  const byHour = new Map(counted.map((row) => [row.hour.getTime(), row]));
  const hours = [];
  for (let at = from.getTime(); at < to.getTime(); at += HOUR) {
    const row = byHour.get(at);
    hours.push({
      hour: new Date(at).toISOString(),
      successes: row?.successes ?? 0,
      failures: row?.failures ?? 0,
    });
  }
  return { from: from.toISOString(), to: to.toISOString(), hours };
}
