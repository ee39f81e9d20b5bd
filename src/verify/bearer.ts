import { TokenVerificationError } from './errors.ts';

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER_CREDENTIALS = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token in an `Authorization: Bearer …` header value (Node's `req.headers.authorization`, Koa's `ctx.get(…)`). */
export function bearerToken(header: string | null | undefined): string {
  const value = header?.trim() ?? '';
  if (value === '')
    throw new TokenVerificationError(
      'invalid_request',
      'missing_token',
      'no access token: send the header "Authorization: Bearer <access token>"',
    );
  const scheme = value.split(' ', 1)[0]!;
  if (scheme.toLowerCase() !== 'bearer')
    throw new TokenVerificationError(
      'invalid_request',
      'missing_token',
      `no access token: the Authorization header uses the ${scheme} scheme, not Bearer`,
    );
  const match = BEARER_CREDENTIALS.exec(value);
  if (match === null)
    throw new TokenVerificationError(
      'invalid_request',
      'malformed_header',
      'malformed Authorization header: expected "Bearer <access token>" with a single token',
    );
  return match[1]!;
}
