import {
  AndFilter,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  FilterParser,
  OrFilter,
  PresenceFilter,
} from 'ldapts';

/**
 * Search filters are built as filter objects: values from outside (a typed username, a DN, an id)
 * are never parsed as filter text, so `*`, `(`, `)` and `\` in them match themselves (RFC 4515).
 * Only the admin's base filters are parsed, once, from the config.
 */

/** AD's LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nesting. */
const IN_CHAIN = '1.2.840.113556.1.4.1941';

export const parseFilter = (filter: string): Filter => FilterParser.parseString(filter);

export const equals = (attribute: string, value: string | Buffer): Filter =>
  new EqualityFilter({ attribute, value });

export const present = (attribute: string): Filter => new PresenceFilter({ attribute });

export const anyOf = (filters: Filter[]): Filter =>
  filters.length === 1 ? filters[0]! : new OrFilter({ filters });

export const allOf = (...filters: Filter[]): Filter => new AndFilter({ filters });

/** Groups that hold `dn` as a member, directly or through nested groups (Active Directory only). */
export const memberInChain = (attribute: string, dn: string): Filter =>
  new ExtensibleFilter({ matchType: attribute, rule: IN_CHAIN, value: dn });
