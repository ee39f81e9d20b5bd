import { NoSuchObjectError } from 'ldapts';
import { STATUS_ATTRIBUTES } from './account-status.ts';
import type { LdapSettings } from './config.ts';
import type { LdapConnection } from './connection.ts';
import { isDnWithin } from './dn.ts';
import { DirectoryEntry } from './entry.ts';
import { allOf, anyOf, equals, parseFilter } from './filters.ts';
import { parseObjectGuid } from './object-guid.ts';

/** Every attribute of a user entry the connector reads, and which of them are binary. */
function userAttributes(settings: LdapSettings): { attributes: string[]; binary: string[] } {
  const { userSearch: user, groupSearch: groups } = settings;
  const names = [
    ...user.usernameAttributes,
    user.preferredUsernameAttribute,
    user.idAttribute,
    user.emailAttribute,
    user.nameAttribute,
    ...Object.values(user.claims),
    ...(settings.activeDirectory ? STATUS_ATTRIBUTES.activeDirectory : STATUS_ATTRIBUTES.generic),
    ...(groups?.mode === 'memberOf' ? ['memberOf'] : []),
    ...(groups ? [groups.userAttribute] : []),
  ];
  const attributes = [...new Set(names.filter((name) => name.toLowerCase() !== 'dn'))];
  return { attributes, binary: isBinaryId(settings) ? [user.idAttribute] : [] };
}

const isBinaryId = (settings: LdapSettings) => settings.userSearch.idAttribute.toLowerCase() === 'objectguid';

/**
 * The entries the typed name matches in any of the username attributes (at most two: more than one
 * is already ambiguous). The name goes into the filter as a value, never as filter text.
 */
export async function findUsersByName(
  connection: LdapConnection,
  settings: LdapSettings,
  username: string,
): Promise<DirectoryEntry[]> {
  const { userSearch: user } = settings;
  const filter = allOf(
    parseFilter(user.filter),
    anyOf(user.usernameAttributes.map((attribute) => equals(attribute, username))),
  );
  const { attributes, binary } = userAttributes(settings);
  const entries = await connection.search({
    base: user.baseDN,
    scope: user.scope,
    filter,
    attributes,
    binaryAttributes: binary,
    sizeLimit: 2,
  });
  return entries.map((entry) => new DirectoryEntry(entry));
}

/** The user with this stable id, if they still exist under the base DN and match the filter. */
export async function findUserById(
  connection: LdapConnection,
  settings: LdapSettings,
  id: string,
): Promise<DirectoryEntry | undefined> {
  const { userSearch: user } = settings;
  const { attributes, binary } = userAttributes(settings);
  const byDn = user.idAttribute.toLowerCase() === 'dn';
  let value: string | Buffer = id;
  if (isBinaryId(settings)) {
    const guid = parseObjectGuid(id);
    if (!guid) return undefined;
    value = guid;
  }
  try {
    const entries = await connection.search({
      base: byDn ? id : user.baseDN,
      scope: byDn ? 'base' : user.scope,
      filter: byDn
        ? parseFilter(user.filter)
        : allOf(parseFilter(user.filter), equals(user.idAttribute, value)),
      attributes,
      binaryAttributes: binary,
      sizeLimit: 2,
    });
    if (entries.length !== 1) return undefined;
    const entry = new DirectoryEntry(entries[0]!);
    if (byDn && !isDnWithin(entry.dn, user.baseDN, user.scope)) return undefined;
    return entry;
  } catch (error) {
    if (error instanceof NoSuchObjectError && byDn) return undefined;
    throw error;
  }
}
