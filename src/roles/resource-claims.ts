import type { Resource } from '../catalog/catalog.ts';

export interface ResourceRoleClaims {
  roles: string[];
  [roleClaim: string]: string | string[];
}

/** Who an access token is about, as the resource's claims need it. */
export interface TokenCaller {
  sub: string;
  clientId: string;
  roles: Iterable<string>;
  scope: string;
  idp?: string;
}

/**
 * The role claims an access token for `resource` carries: the caller's roles filtered to the ones
 * the resource accepts (in the resource's order), and, when the resource names a `roleClaim`, the
 * first of them or the resource's `defaultRole` — one string, as PostgREST's `SET ROLE` wants.
 */
export function resourceRoleClaims(callerRoles: Iterable<string>, resource: Resource): ResourceRoleClaims {
  const held = new Set(callerRoles);
  const roles = resource.roles.filter((role) => held.has(role));
  const claims: ResourceRoleClaims = { roles };
  if (resource.roleClaim !== undefined && resource.roleClaim !== 'roles') {
    const chosen = chosenRole(roles, resource);
    if (chosen !== undefined) claims[resource.roleClaim] = chosen;
  }
  return claims;
}

/**
 * Every claim Lock adds to an access token for `resource`: the role claims, and the resource's
 * namespaced claims (`claimsNamespace`, e.g. Hasura's `https://hasura.io/jwt/claims`) copied from them.
 */
export function resourceTokenClaims(resource: Resource, caller: TokenCaller): Record<string, unknown> {
  const claims: Record<string, unknown> = resourceRoleClaims(caller.roles, resource);
  const namespace = resource.claimsNamespace;
  if (namespace) {
    const roles = claims.roles as string[];
    const sources = {
      sub: caller.sub,
      client_id: caller.clientId,
      roles,
      role: chosenRole(roles, resource),
      scope: caller.scope,
      idp: caller.idp,
    };
    claims[namespace.claim] = Object.fromEntries(
      Object.entries(namespace.claims).flatMap(([name, source]) =>
        sources[source] === undefined ? [] : [[name, sources[source]]],
      ),
    );
  }
  return claims;
}

function chosenRole(roles: readonly string[], resource: Resource): string | undefined {
  return roles[0] ?? resource.defaultRole;
}
