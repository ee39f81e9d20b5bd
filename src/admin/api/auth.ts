import { createLocalJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type Koa from 'koa';
import { adminResourceId } from '../../catalog/built-ins.ts';
import { ADMIN_ROLE } from '../../model/admin-role.ts';
import { SIGNING_ALGS } from '../../model/signing-alg.ts';
import { LockError } from '../../observability/errors.ts';
import { findLockAccount } from '../../oidc/accounts.ts';
import { bearerToken } from '../../verify/bearer.ts';
import type { LockState } from '../../web/lock-state.ts';
import type { AdminActor } from '../admin-actor.ts';
import type { AdminApiDeps } from './route.ts';

export type AdminState = LockState & { admin: AdminActor };

/**
 * RFC 6750 bearer authentication for the admin API: a Lock access token (RFC 9068) for
 * `<issuer>/admin`, verified here against this process's own published keys, whose caller holds
 * `lock_admin` in the token and still holds it now (a disabled admin's token stops working at once).
 */
export function requireAdmin(deps: AdminApiDeps): Koa.Middleware<AdminState> {
  const audience = adminResourceId(deps.issuer);
  const keySets = new WeakMap<object, JWTVerifyGetKey>();
  const keysOf = (jwks: AdminApiDeps['runtime']['state']['publicJwks']) => {
    let keys = keySets.get(jwks);
    if (!keys) {
      keys = createLocalJWKSet(jwks);
      keySets.set(jwks, keys);
    }
    return keys;
  };
  /** RFC 6750 §3: 401/403 with the challenge; no error code when the request carried no token. */
  const refused = (code: 'invalid_token' | 'insufficient_scope' | undefined, description: string) => {
    const parameters = [`realm="${audience}"`];
    if (code) parameters.push(`error="${code}"`, `error_description="${description.replaceAll('"', "'")}"`);
    return new LockError(code ?? 'unauthorized', description, {
      headers: { 'WWW-Authenticate': `Bearer ${parameters.join(', ')}` },
    });
  };

  return async (ctx, next) => {
    const header = ctx.get('authorization');
    let token: string;
    try {
      token = bearerToken(header);
    } catch {
      // RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
      if (header.trim() === '')
        throw refused(undefined, `an access token for ${audience} is required (Authorization: Bearer …)`);
      throw refused('invalid_token', 'the Authorization header is not a bearer token');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keysOf(deps.runtime.state.publicJwks), {
        issuer: deps.issuer,
        audience,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGS],
        requiredClaims: ['exp', 'sub', 'client_id'],
        currentDate: deps.now(),
      }));
    } catch (error) {
      throw refused('invalid_token', `the access token is not valid: ${(error as Error).message}`);
    }
    const holdsRole = (roles: unknown) => Array.isArray(roles) && roles.includes(ADMIN_ROLE);
    if (!holdsRole(payload.roles))
      throw refused('insufficient_scope', `the token does not carry the role ${ADMIN_ROLE}`);
    const caller = await currentCaller(deps, payload);
    if (caller === 'gone')
      throw refused('invalid_token', 'the account or client behind the token can no longer sign in');
    if (!holdsRole(caller.roles))
      throw refused('insufficient_scope', `the caller no longer holds the role ${ADMIN_ROLE}`);
    ctx.state.admin = {
      actor: String(payload.sub),
      clientId: String(payload.client_id),
      requestId: ctx.state.requestId,
      ip: ctx.ip,
      ...(ctx.get('user-agent') && { userAgent: ctx.get('user-agent') }),
    };
    await next();
  };
}

/** The caller's roles as they are now: a service client's from the catalog, a user's from their connector. */
async function currentCaller(deps: AdminApiDeps, payload: JWTPayload): Promise<{ roles: string[] } | 'gone'> {
  const { state } = deps.runtime;
  if (payload.sub === payload.client_id) {
    const client = state.catalog.clients.get(String(payload.client_id));
    return client?.grantTypes.includes('client_credentials') ? { roles: client.roles } : 'gone';
  }
  const account = await findLockAccount(
    deps.pool,
    deps.runtime.accounts,
    state.connectors,
    String(payload.sub),
    false,
  );
  return account ?? 'gone';
}
