import { createHash } from 'node:crypto';
import { insertAuditEvent, insertRepeatedAuditEvent } from '../store/audit-events.ts';
import type { Queryable } from '../store/pool.ts';

export interface AuditEvent {
  type: string;
  outcome: 'success' | 'failure' | 'error';
  actor?: string;
  subject?: string;
  connector?: string;
  clientId?: string;
  /** Why it failed, for admins; never shown to the user. */
  reason?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
  /** Never a secret, password, token or assertion. */
  details?: Record<string, unknown>;
}

/** Repeats of one failed sign-in within this many seconds are one audit row with a count. */
export const REPEAT_WINDOW_SECONDS = 60;

export interface AuditOptions {
  now?: Date;
}

/**
 * Records an event. A failed password sign-in (login.password or login.locked_out) that repeats one already
 * recorded this minute for the same subject, address, connector and reason only adds to that row's
 * count (`details.count` when read): a flood of attempts, typed by anyone, writes one row a minute.
 */
export async function recordAuditEvent(
  db: Queryable,
  event: AuditEvent,
  options: AuditOptions = {},
): Promise<void> {
  if (!isRepeatable(event)) return insertAuditEvent(db, event);
  const minute = Math.floor((options.now ?? new Date()).getTime() / (REPEAT_WINDOW_SECONDS * 1000));
  const identity = [
    event.type,
    event.outcome,
    event.subject,
    event.ip,
    event.connector,
    event.clientId,
    event.reason,
  ];
  const repeatKey = createHash('sha256')
    .update(JSON.stringify([...identity.map((part) => part ?? null), minute]))
    .digest('hex');
  await insertRepeatedAuditEvent(db, event, repeatKey);
}

/**
 * The events anyone can cause by typing a name into the login form. A failed second factor is
 * not among them (its sender knew the password: each attempt stays a row of its own).
 */
const REPEATABLE_TYPES = new Set(['login.password', 'login.locked_out']);
const isRepeatable = (event: AuditEvent) => event.outcome === 'failure' && REPEATABLE_TYPES.has(event.type);
