import { type AuditEvent, recordAuditEvent } from '../audit/audit.ts';
import type { Queryable } from '../store/pool.ts';

/** Who makes an admin change, for its audit event: a token's sub or client id, or the CLI. */
export interface AdminActor {
  actor: string;
  /** The client the caller's token was issued to (the console, or an automation client). */
  clientId?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

export const CLI_ACTOR: AdminActor = { actor: 'cli' };

/** One audit event per admin change, in the change's transaction: `admin.<entity>.<verb>`. */
export async function recordAdminChange(
  db: Queryable,
  by: AdminActor,
  change: {
    type: string;
    subject: string;
    details?: Record<string, unknown>;
    /** What an admin tried and Lock refused (a failed connection test) is audited too. */
    outcome?: 'success' | 'failure';
  },
): Promise<void> {
  const event: AuditEvent = {
    type: change.type,
    outcome: change.outcome ?? 'success',
    actor: by.actor,
    subject: change.subject,
    ...(by.clientId !== undefined && { clientId: by.clientId }),
    ...(by.requestId !== undefined && { requestId: by.requestId }),
    ...(by.ip !== undefined && { ip: by.ip }),
    ...(by.userAgent !== undefined && { userAgent: by.userAgent }),
    ...(change.details !== undefined && { details: change.details }),
  };
  await recordAuditEvent(db, event);
}
