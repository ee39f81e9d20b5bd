import { SamlRefusal } from './refusal.ts';
import type { ValidatedAssertion } from './response-validation.ts';

/** What the AuthnRequest asked the IdP for, as the request store kept it. */
export interface AskedFreshness {
  id: string;
  issuedAt: Date;
  forceAuthn: boolean;
  maxAgeSeconds?: number;
}

/**
 * ForceAuthn and max_age are requests to the IdP, which it may ignore: its AuthnInstant says
 * whether it authenticated the user again, and that is what `prompt=login` and `max_age` rely on.
 * ForceAuthn: at or after the AuthnRequest was issued; max_age: at most that old now; never in the
 * future — each with `skewMs` of tolerance.
 */
export function assertFreshEnough(
  result: Pick<ValidatedAssertion, 'authnInstant'>,
  request: AskedFreshness,
  now: Date,
  skewMs: number,
): void {
  const instant = result.authnInstant;
  if (instant === undefined) throw new SamlRefusal('the AuthnStatement has no AuthnInstant');
  if (instant.getTime() > now.getTime() + skewMs)
    throw new SamlRefusal(`the AuthnInstant ${instant.toISOString()} is in the future`);
  if (
    request.maxAgeSeconds !== undefined &&
    instant.getTime() < now.getTime() - request.maxAgeSeconds * 1000 - skewMs
  )
    throw new SamlRefusal(
      `max_age ${request.maxAgeSeconds}: the AuthnInstant ${instant.toISOString()} is older than the client allows`,
    );
  if (request.forceAuthn && instant.getTime() < request.issuedAt.getTime() - skewMs)
    throw new SamlRefusal(
      `ForceAuthn: the request ${request.id} of ${request.issuedAt.toISOString()} asked the IdP to authenticate the user again, but the AuthnInstant is ${instant.toISOString()} (an earlier login)`,
    );
}

/** `auth_time` of the login: the IdP's AuthnInstant (never later than now, whatever its clock says). */
export function authTimeOf(
  result: Pick<ValidatedAssertion, 'authnInstant'>,
  now: Date,
): { authTime?: number } {
  if (result.authnInstant === undefined) return {};
  return { authTime: Math.floor(Math.min(result.authnInstant.getTime(), now.getTime()) / 1000) };
}
