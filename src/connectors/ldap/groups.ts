import { type Filter, NoSuchObjectError } from 'ldapts';
import type { LdapSettings } from './config.ts';
import type { LdapConnection } from './connection.ts';
import { isDnWithin } from './dn.ts';
import { DirectoryEntry } from './entry.ts';
import { allOf, anyOf, equals, memberInChain, parseFilter } from './filters.ts';

type GroupSettings = NonNullable<LdapSettings['groupSearch']>;

/** Members per OR filter when walking nested groups: keeps each filter a sane size. */
const MEMBERS_PER_FILTER = 50;

/**
 * The names of the user's groups, in the configured mode: `memberOf` (the user's attribute),
 * `search` (groups that list the user), `nested` (that, walked upwards with a depth bound and a
 * cycle guard) or `adInChain` (Active Directory's transitive membership rule).
 */
export async function findGroupNames(
  connection: LdapConnection,
  settings: LdapSettings,
  user: DirectoryEntry,
): Promise<string[]> {
  const groups = settings.groupSearch;
  if (!groups) return [];
  const search = (filter: Filter) => searchGroups(connection, settings, groups, filter);
  let entries: DirectoryEntry[];
  switch (groups.mode) {
    case 'memberOf':
      return sorted(await namesOfDns(connection, groups, user.values('memberOf')));
    case 'search': {
      const value = groups.userAttribute.toLowerCase() === 'dn' ? user.dn : user.first(groups.userAttribute);
      if (value === undefined) return [];
      entries = await search(equals(groups.memberAttribute, value));
      break;
    }
    case 'nested':
      entries = await walkNested(user.dn, groups, search);
      break;
    case 'adInChain':
      entries = await search(memberInChain(groups.memberAttribute, user.dn));
      break;
  }
  return sorted(entries.flatMap((entry) => entry.values(groups.nameAttribute)));
}

function searchGroups(
  connection: LdapConnection,
  settings: LdapSettings,
  groups: GroupSettings,
  membership: Filter,
): Promise<DirectoryEntry[]> {
  return connection
    .search({
      base: groups.baseDN,
      scope: groups.scope,
      filter: allOf(parseFilter(groups.filter), membership),
      attributes: groups.nameAttribute.toLowerCase() === 'dn' ? ['1.1'] : [groups.nameAttribute],
      pageSize: settings.pageSize,
    })
    .then((entries) => entries.map((entry) => new DirectoryEntry(entry)));
}

/** Breadth first, one search per level: groups holding the user, then groups holding those, … */
async function walkNested(
  userDn: string,
  groups: GroupSettings,
  search: (filter: Filter) => Promise<DirectoryEntry[]>,
): Promise<DirectoryEntry[]> {
  const found = new Map<string, DirectoryEntry>();
  let frontier = [userDn];
  for (let depth = 0; depth <= groups.maxDepth && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (let start = 0; start < frontier.length; start += MEMBERS_PER_FILTER) {
      const members = frontier.slice(start, start + MEMBERS_PER_FILTER);
      for (const entry of await search(anyOf(members.map((dn) => equals(groups.memberAttribute, dn))))) {
        const key = entry.dn.toLowerCase();
        if (found.has(key)) continue; // a cycle, or reached twice
        found.set(key, entry);
        next.push(entry.dn);
      }
    }
    frontier = next;
  }
  return [...found.values()];
}

/**
 * Group names from the user's memberOf DNs. memberOf lists every group in the directory, so only
 * those within the group base DN (and scope) count, and each must match the group filter: a group
 * of the same name elsewhere (another OU, a partner's tree) grants nothing.
 */
async function namesOfDns(
  connection: LdapConnection,
  groups: GroupSettings,
  dns: string[],
): Promise<string[]> {
  const filter = parseFilter(groups.filter);
  const byDn = groups.nameAttribute.toLowerCase() === 'dn';
  const names: string[] = [];
  for (const dn of dns.filter((each) => isDnWithin(each, groups.baseDN, groups.scope))) {
    const [entry] = await connection
      .search({
        base: dn,
        scope: 'base',
        filter,
        attributes: byDn ? ['1.1'] : [groups.nameAttribute],
        sizeLimit: 1,
      })
      .catch((error: unknown) => {
        if (error instanceof NoSuchObjectError) return []; // memberOf naming a group deleted meanwhile
        throw error;
      });
    if (entry) names.push(...new DirectoryEntry(entry).values(groups.nameAttribute));
  }
  return names;
}

const sorted = (names: string[]) => [...new Set(names)].sort();
