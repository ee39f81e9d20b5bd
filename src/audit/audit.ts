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

export async function recordAuditEvent(db: Queryable, event: AuditEvent): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (type, outcome, actor, subject, connector, client_id, reason, ip, user_agent, request_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      event.type,
      event.outcome,
      event.actor ?? null,
      event.subject ?? null,
      event.connector ?? null,
      event.clientId ?? null,
      event.reason ?? null,
      event.ip ?? null,
      event.userAgent?.slice(0, 512) ?? null,
      event.requestId ?? null,
      event.details ?? {},
    ],
  );
}
