// What every step of a sign-in knows about the request it serves, handed over by the interaction
// routes as plain values: the login library never sees an HTTP context.

/** Which sign-in (interaction), for which client, from where: for the budgets and the audit log. */
export interface SignInRequest {
  /** oidc-provider's interaction uid: the one sign-in this request belongs to. */
  interaction: string;
  clientId: string;
  ip: string;
  userAgent: string;
  requestId: string;
}

/** A finished sign-in, as oidc-provider's `login` interaction result wants it. */
export interface SignedIn {
  accountId: string;
  /** RFC 8176 authentication methods. */
  amr: string[];
}

/** The audit event's fields that describe the request; `subject` is the name the person typed. */
export const auditFields = (request: SignInRequest, subject: string) => ({
  subject,
  clientId: request.clientId,
  ip: request.ip,
  userAgent: request.userAgent,
  requestId: request.requestId,
});
