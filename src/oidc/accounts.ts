import type { Account, AccountClaims, KoaContextWithOIDC } from 'oidc-provider';
import { type ConnectorInfo, isRefreshConnector } from '../connectors/connector.ts';
import { LocalConnector } from '../connectors/local/local-connector.ts';
import { mapGroupsToRoles } from '../roles/role-mappings.ts';
import type { AccountCache } from '../store/account-cache.ts';
import { recordIdentity, type StoredIdentity } from '../store/identities.ts';
import type { Queryable } from '../store/pool.ts';
import type { IdentityWithLocalAccount } from '../store/users.ts';

export interface LockAccount extends Account {
  identity: StoredIdentity;
  roles: string[];
}

/**
 * oidc-provider's findAccount: the identity behind a `sub`, checked against its connector where
 * the connector can (local accounts always; directories on refresh), with its roles.
 * Undefined — so no tokens — when the user is gone, disabled, or their connector was removed.
 * `readAhead`: what the redemption's token find knew current for this `sub` in the same request.
 */
export async function findLockAccount(
  db: Queryable,
  accounts: AccountCache,
  connectors: ReadonlyMap<string, ConnectorInfo>,
  sub: string,
  recheckUpstream: boolean,
  readAhead?: { found: IdentityWithLocalAccount | undefined },
): Promise<LockAccount | undefined> {
  // One statement for the identity and, for Lock's own accounts, the account's current state —
  // or none, when the token being redeemed found them current (`readAhead`, the same request).
  const found = readAhead ? readAhead.found : await accounts.read(db, sub);
  if (!found) return undefined;
  let identity = found.identity;
  const connector = connectors.get(identity.connector);
  if (!connector) return undefined;
  if ((recheckUpstream || connector.type === 'local') && isRefreshConnector(connector)) {
    const current =
      connector instanceof LocalConnector && found.local !== undefined
        ? connector.identityOf(found.local)
        : await connector.refresh(identity);
    if (!current) return undefined;
    if (connector.type !== 'local') identity = await recordIdentity(db, identity.connector, current);
    else identity = { ...identity, ...current };
  }
  const roles = identity.roles ?? (await mapGroupsToRoles(db, identity.connector, identity.groups));
  return toAccount(identity, roles);
}

function toAccount(identity: StoredIdentity, roles: string[]): LockAccount {
  return {
    accountId: identity.sub,
    identity,
    roles,
    claims: (_use: string, scope: string): AccountClaims => {
      const scopes = new Set(scope.split(' '));
      return {
        // Upstream claims first, so no connector attribute can stand in for Lock's own claims.
        ...identity.claims,
        sub: identity.sub,
        roles,
        idp: identity.connector,
        ...(scopes.has('profile') && {
          preferred_username: identity.username,
          ...(identity.name !== undefined && { name: identity.name }),
        }),
        ...(scopes.has('email') && identity.email !== undefined && { email: identity.email }),
        ...(scopes.has('groups') && { groups: identity.groups }),
      };
    },
  };
}

/** Refresh-token grants re-check the upstream: a removed or disabled user gets no new tokens. */
export const isRefreshGrant = (ctx: KoaContextWithOIDC | undefined) =>
  ctx?.oidc?.params?.grant_type === 'refresh_token';
