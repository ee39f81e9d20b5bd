import type { Queryable } from './pool.ts';

export interface NewAuditEvent {
  type: string;
  outcome: 'success' | 'failure' | 'error';
  actor?: string | undefined;
  subject?: string | undefined;
  connector?: string | undefined;
  clientId?: string | undefined;
  reason?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
  requestId?: string | undefined;
  details?: Record<string, unknown> | undefined;
}

const eventValues = (event: NewAuditEvent) => [
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
];

export async function insertAuditEvent(db: Queryable, event: NewAuditEvent): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (type, outcome, actor, subject, connector, client_id, reason, ip, user_agent, request_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    eventValues(event),
  );
}

/**
 * Counts one attempt under `repeatKey`; only the first attempt of the key writes an audit row
 * (one statement, so concurrent attempts agree on which one is first). Returns the attempts so far.
 */
export async function insertRepeatedAuditEvent(
  db: Queryable,
  event: NewAuditEvent,
  repeatKey: string,
): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `WITH counted AS (
       INSERT INTO audit_event_repeats AS r (repeat_key, attempts, last_at) VALUES ($12, 1, now())
       ON CONFLICT (repeat_key) DO UPDATE SET attempts = r.attempts + 1, last_at = now()
       RETURNING attempts
     ), first AS (
       INSERT INTO audit_events (type, outcome, actor, subject, connector, client_id, reason, ip, user_agent, request_id, details, repeat_key)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM counted WHERE attempts = 1
     )
     SELECT attempts FROM counted`,
    [...eventValues(event), repeatKey],
  );
  return rows[0]!.attempts;
}

export interface StoredAuditEvent {
  id: string;
  at: Date;
  type: string;
  outcome: 'success' | 'failure' | 'error';
  actor: string | null;
  subject: string | null;
  connector: string | null;
  clientId: string | null;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
  /** The username of the account whose sub is the actor (null when the actor is no account's sub). */
  actorName: string | null;
  /** The same for the subject, where it is a sub. */
  subjectName: string | null;
}

export interface AuditFilter {
  from?: Date;
  to?: Date;
  /** The actor as recorded (a sub, a client id, "cli") or the username of the account it is. */
  actor?: string;
  outcome?: 'success' | 'failure' | 'error';
  /** Exact type, or every type starting with `typePrefix`. */
  type?: string;
  typePrefix?: string;
  /** Events older than the event with this id (the cursor). */
  beforeId?: string;
  limit: number;
}

/** Newest first; `beforeId` continues where an earlier page ended. */
export async function listAuditEvents(db: Queryable, filter: AuditFilter): Promise<StoredAuditEvent[]> {
  const { rows } = await db.query<{
    id: string;
    at: Date;
    type: string;
    outcome: StoredAuditEvent['outcome'];
    actor: string | null;
    subject: string | null;
    connector: string | null;
    client_id: string | null;
    reason: string | null;
    ip: string | null;
    user_agent: string | null;
    request_id: string | null;
    details: Record<string, unknown>;
    actor_name: string | null;
    subject_name: string | null;
  }>(
    // A repeated failure shows how often it happened: details.count and details.lastAt.
    // Names are resolved here, in one query: the console shows usernames, not subs.
    `SELECT e.id::text, e.at, e.type, e.outcome, e.actor, e.subject, e.connector, e.client_id, e.reason, e.ip,
            e.user_agent, e.request_id,
            CASE WHEN r.repeat_key IS NULL THEN e.details
                 ELSE e.details || jsonb_build_object('count', r.attempts, 'lastAt', r.last_at) END AS details,
            actor_account.username AS actor_name, subject_account.username AS subject_name
     FROM audit_events e LEFT JOIN audit_event_repeats r USING (repeat_key)
       LEFT JOIN identities actor_account ON actor_account.sub = e.actor
       LEFT JOIN identities subject_account ON subject_account.sub = e.subject
     WHERE ($1::timestamptz IS NULL OR e.at >= $1)
       AND ($2::timestamptz IS NULL OR e.at < $2)
       AND ($3::text IS NULL OR e.actor = $3 OR actor_account.username = $3)
       AND ($4::text IS NULL OR e.type = $4)
       AND ($5::text IS NULL OR starts_with(e.type, $5))
       AND ($6::bigint IS NULL OR e.id < $6)
       AND ($8::text IS NULL OR e.outcome = $8)
     ORDER BY e.id DESC LIMIT $7`,
    [
      filter.from ?? null,
      filter.to ?? null,
      filter.actor ?? null,
      filter.type ?? null,
      filter.typePrefix ?? null,
      filter.beforeId ?? null,
      filter.limit,
      filter.outcome ?? null,
    ],
  );
  return rows.map((row) => ({
    id: row.id,
    at: row.at,
    type: row.type,
    outcome: row.outcome,
    actor: row.actor,
    subject: row.subject,
    connector: row.connector,
    clientId: row.client_id,
    reason: row.reason,
    ip: row.ip,
    userAgent: row.user_agent,
    requestId: row.request_id,
    details: row.details,
    actorName: row.actor_name,
    subjectName: row.subject_name,
  }));
}

export interface HourlySignIns {
  hour: Date;
  successes: number;
  failures: number;
}

/**
 * Sign-ins per hour in [from, to), from the `login.*` events: successes (leaving out `laterSteps`,
 * the steps after a first factor was accepted, so a sign-in counts once) and failures (failure or
 * error, of any step but `notAttempts`), a repeated failure counted as often as it happened.
 * Hours without events are left out.
 */
export async function countSignInsByHour(
  db: Queryable,
  range: { from: Date; to: Date; laterSteps: readonly string[]; notAttempts: readonly string[] },
): Promise<HourlySignIns[]> {
  const { rows } = await db.query<{ hour: Date; successes: number; failures: number }>(
    `SELECT date_trunc('hour', e.at) AS hour,
            coalesce(sum(coalesce(r.attempts, 1))
              FILTER (WHERE e.outcome = 'success' AND NOT e.type = ANY($3)), 0)::int AS successes,
            coalesce(sum(coalesce(r.attempts, 1))
              FILTER (WHERE e.outcome <> 'success' AND NOT e.type = ANY($4)), 0)::int AS failures
     FROM audit_events e LEFT JOIN audit_event_repeats r USING (repeat_key)
     WHERE e.at >= $1 AND e.at < $2 AND starts_with(e.type, 'login.')
     GROUP BY 1 ORDER BY 1`,
    [range.from, range.to, range.laterSteps, range.notAttempts],
  );
  return rows;
}
/** Deletes events older than `before`, in bounded batches; returns how many went. Needs the owner's rights. */
export async function pruneAuditEvents(db: Queryable, before: Date, batchSize = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await db.query(
      'DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at < $1 ORDER BY id LIMIT $2)',
      [before, batchSize],
    );
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return total;
  }
}

/** A sign-in attempt of one person, as /account lists it (docs/account.md). */
export interface SignInEvent {
  at: Date;
  type: string;
  outcome: 'success' | 'failure' | 'error';
  ip: string | null;
  userAgent: string | null;
  clientId: string | null;
  details: Record<string, unknown>;
}

/**
 * The newest login.* events of one person: those they signed in by (`actor` is their sub) and
 * those typed with their name at their connector (a failure names no actor). Newest first.
 */
export async function listSignInEventsOf(
  db: Queryable,
  person: { sub: string; username: string; connector: string },
  limit: number,
): Promise<SignInEvent[]> {
  const { rows } = await db.query<{
    at: Date;
    type: string;
    outcome: SignInEvent['outcome'];
    ip: string | null;
    user_agent: string | null;
    client_id: string | null;
    details: Record<string, unknown>;
  }>(
    `SELECT at, type, outcome, ip, user_agent, client_id, details FROM (
       (SELECT id, at, type, outcome, ip, user_agent, client_id, details FROM audit_events
         WHERE type LIKE 'login.%' AND actor = $1 ORDER BY id DESC LIMIT $4)
       UNION
       (SELECT id, at, type, outcome, ip, user_agent, client_id, details FROM audit_events
         WHERE type LIKE 'login.%' AND lower(subject) = lower($2) AND connector = $3 ORDER BY id DESC LIMIT $4)
     ) AS events ORDER BY id DESC LIMIT $4`,
    [person.sub, person.username, person.connector, limit],
  );
  return rows.map((row) => ({
    at: row.at,
    type: row.type,
    outcome: row.outcome,
    ip: row.ip,
    userAgent: row.user_agent,
    clientId: row.client_id,
    details: row.details,
  }));
}
