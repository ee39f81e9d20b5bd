// What every /account action knows: the person (as Lock's identity of the signed-in `sub`), the
// page session they act in, and the request (for the audit log). Plain values: no Koa here.
import type { AccountSession } from '../store/account-sessions.ts';

/** The signed-in person as /account sees them. */
export interface AccountPerson {
  sub: string;
  username: string;
  name?: string;
  email?: string;
  /** The connector they signed in through, and its type. */
  connector: string;
  connectorType: string;
  /** Set for Lock's own accounts (`local` connectors): the users row. Only these change credentials here. */
  localUserId?: string;
}

/** Where a request came from, for the audit log. */
export interface AccountRequest {
  ip: string;
  userAgent: string;
  requestId: string;
}

export type { AccountSession };

/** The audit fields of an /account event: the person acts on themselves. */
export const accountAudit = (person: AccountPerson, request: AccountRequest) => ({
  actor: person.sub,
  subject: person.username,
  connector: person.connector,
  ip: request.ip,
  userAgent: request.userAgent,
  requestId: request.requestId,
});
