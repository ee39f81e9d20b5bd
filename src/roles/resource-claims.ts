import type { Resource } from '../catalog/catalog.ts';

export interface ResourceRoleClaims {
  roles: string[];
  [roleClaim: string]: string | string[];
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
    const chosen = roles[0] ?? resource.defaultRole;
    if (chosen !== undefined) claims[resource.roleClaim] = chosen;
  }
  return claims;
}
