import { type Configuration, errors } from 'oidc-provider';

/**
 * The longest a `private_key_jwt` assertion may live, in seconds (exp − now). RFC 7523 §3 asks
 * for a short one; its `jti` is remembered until `exp`, so the cap also bounds what is kept.
 */
export const CLIENT_ASSERTION_MAX_LIFETIME = 300;

/**
 * Checks oidc-provider leaves to its host, after it has verified the signature, `iss` = `sub` =
 * client id, `aud` (the issuer, the token endpoint or the endpoint called) and that `exp` is not
 * past: the assertion must be short-lived.
 */
export const assertClientAssertionClaims: NonNullable<Configuration['assertJwtClientAuthClaimsAndHeader']> = (
  _ctx,
  claims,
) => {
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number' || claims.exp - now > CLIENT_ASSERTION_MAX_LIFETIME)
    throw new errors.InvalidClientAuth(
      `the client assertion must expire within ${CLIENT_ASSERTION_MAX_LIFETIME} seconds`,
    );
};
