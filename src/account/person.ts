import type { ConnectorInfo } from '../connectors/connector.ts';
import { findIdentity } from '../store/identities.ts';
import type { Queryable } from '../store/pool.ts';
import { findUserById } from '../store/users.ts';
import type { AccountPerson } from './account-context.ts';

/**
 * The person behind a signed-in `sub`: undefined when Lock no longer knows them (identity or
 * connector gone, a local account deleted or disabled), so the page session is worth nothing.
 */
export async function findAccountPerson(
  db: Queryable,
  connectors: ReadonlyMap<string, ConnectorInfo>,
  sub: string,
): Promise<AccountPerson | undefined> {
  const identity = await findIdentity(db, sub);
  if (!identity) return undefined;
  const connector = connectors.get(identity.connector);
  if (!connector) return undefined;
  const person: AccountPerson = {
    sub,
    username: identity.username,
    ...(identity.name !== undefined && { name: identity.name }),
    ...(identity.email !== undefined && { email: identity.email }),
    connector: connector.id,
    connectorType: connector.type,
  };
  if (connector.type !== 'local') return person;
  const user = await findUserById(db, identity.upstreamId);
  if (!user || user.disabled) return undefined;
  return { ...person, username: user.username, localUserId: user.id };
}
