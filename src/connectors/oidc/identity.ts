import type { UpstreamIdentity, UpstreamLogin } from '../connector.ts';
import { mapClaims } from '../federation/claim-mapping.ts';
import type { OidcConfig } from './config.ts';

/** The claim Lock's tokens carry beside `email` for a person whose email their upstream verified. */
export const EMAIL_VERIFIED_CLAIM = 'email_verified';

/**
 * An upstream person's id within the connector: their issuer and subject (OIDC Core §2: unique
 * and never reassigned together). Never a name or an email, so nobody becomes another by them.
 */
export const upstreamIdOf = (iss: string, sub: string): string => `${iss} ${sub}`;

/** The subject part of an upstreamIdOf value. */
export const subjectOf = (upstreamId: string): string => upstreamId.slice(upstreamId.indexOf(' ') + 1);

/**
 * The person as Lock records them, from the ID token's claims merged with userinfo's: the mapped
 * username (else `sub`), name and groups; the email only when the upstream says it verified it
 * (`email_verified: true`) or the connector trusts its emails, and then with `email_verified`.
 */
export function identityFromClaims(
  claims: Record<string, unknown> & { iss: string; sub: string },
  config: Pick<OidcConfig, 'claims' | 'trustEmail'>,
): UpstreamIdentity {
  const mapped = mapClaims(claims, config.claims);
  const verified = claims.email_verified === true || config.trustEmail;
  const email = verified ? mapped.email : undefined;
  return {
    upstreamId: upstreamIdOf(claims.iss, claims.sub),
    username: mapped.username ?? claims.sub,
    ...(email !== undefined && { email }),
    ...(mapped.name !== undefined && { name: mapped.name }),
    groups: mapped.groups,
    ...(email !== undefined && { claims: { [EMAIL_VERIFIED_CLAIM]: true } }),
  };
}

// RFC 8176's registered methods: an upstream's own words for them are not carried into Lock's amr.
const RFC_8176_AMR = new Set([
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
]);

/** What the ID token says of the authentication itself: auth_time, acr, amr (RFC 8176 values only). */
export function authenticationOf(claims: Record<string, unknown>): Omit<UpstreamLogin, 'identity'> {
  const amr = Array.isArray(claims.amr)
    ? [
        ...new Set(
          claims.amr.filter((value): value is string => typeof value === 'string' && RFC_8176_AMR.has(value)),
        ),
      ]
    : [];
  return {
    ...(typeof claims.auth_time === 'number' &&
      Number.isSafeInteger(claims.auth_time) && { authTime: claims.auth_time }),
    ...(typeof claims.acr === 'string' && claims.acr !== '' && { authnContextClassRef: claims.acr }),
    ...(amr.length > 0 && { amr }),
  };
}
