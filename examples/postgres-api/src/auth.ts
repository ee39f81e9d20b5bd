import type Koa from 'koa';
import {
  type AccessTokenClaims,
  authChallenge,
  TokenVerificationError,
  type Verifier,
  withResourceMetadata,
} from 'lock/verify';
import { type Caller, DATABASE_ROLES, isDatabaseRole } from './database.ts';
import { ApiError } from './errors.ts';

export interface ApiState {
  claims: AccessTokenClaims;
  caller: Caller;
}

/**
 * Every data route needs a valid Lock access token for this API (401 otherwise, RFC 6750) whose
 * role claim is one of DATABASE_ROLES (403 otherwise: e.g. the resource's defaultRole for a
 * user Lock gave no role). The role is then what the transaction runs as.
 */
export function requireCaller(
  verifier: Verifier,
  realm: string,
  publicOrigin: () => string,
  resource?: string,
): Koa.Middleware<ApiState> {
  return async (ctx, next) => {
    let claims: AccessTokenClaims;
    try {
      // DPoP's htu is checked against the API's configured public URL, never the Host header a
      // client chooses (a proof made for another server would otherwise pass here).
      claims = await verifier.verifyRequest({
        authorization: ctx.get('authorization') || undefined,
        dpop: ctx.get('dpop') || undefined,
        method: ctx.method,
        url: new URL(ctx.originalUrl, publicOrigin()).toString(),
      });
    } catch (error) {
      if (!(error instanceof TokenVerificationError)) throw error;
      const base = authChallenge(error, {
        realm,
        ...(error.scheme === 'DPoP' && { dpopAlgorithms: verifier.dpopAlgorithms }),
      });
      // RFC 9728 §5.1: where a client learns which authorization server to ask (docs/mcp.md).
      const challenge =
        base === undefined || resource === undefined ? base : withResourceMetadata(base, resource);
      throw new ApiError(error.status, error.code, error.message, {
        headers: {
          ...(challenge === undefined ? { 'Retry-After': '5' } : { 'WWW-Authenticate': challenge }),
          ...(error.dpopNonce !== undefined && { 'DPoP-Nonce': error.dpopNonce }),
        },
      });
    }
    if (!isDatabaseRole(claims.role))
      throw new ApiError(
        403,
        'forbidden',
        claims.role === undefined
          ? 'the access token has no role claim'
          : `this API serves only the roles ${DATABASE_ROLES.join(', ')}; the access token's role is ${JSON.stringify(claims.role)}`,
      );
    ctx.state.claims = claims;
    ctx.state.caller = { role: claims.role, claims: claims.payload as Record<string, unknown> };
    await next();
  };
}
