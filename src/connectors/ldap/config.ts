import { FilterParser } from 'ldapts';
import { z } from 'zod';
import { evenWithOtherProblems, isObject } from '../../model/schema-checks.ts';

/**
 * `connectors[].config` of `type: ldap`, as an admin writes it (docs/ldap.md documents every
 * field). Defaults that depend on the `activeDirectory` preset are filled in by `resolveLdapSettings`,
 * so a stored config keeps what the admin wrote.
 */

const ldapUrl = z
  .string()
  .regex(/^ldaps?:\/\/[^/?#\s]+\/?$/i, 'must be ldap://host[:port] or ldaps://host[:port]');

const dn = z.string().trim().min(1, 'must be a DN').max(2000);

const attribute = z
  .string()
  .regex(/^(dn|[A-Za-z][A-Za-z0-9-]{0,99}|\d+(\.\d+)+)$/, 'must be an LDAP attribute name');

const ldapFilter = z
  .string()
  .trim()
  .min(1)
  .max(4000)
  .refine(
    (filter) => {
      try {
        FilterParser.parseString(filter);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be an LDAP filter (RFC 4515), e.g. (objectClass=person)' },
  );

const scope = z.enum(['sub', 'one']);

/** Claims Lock sets itself: a directory attribute must never replace them. */
// biome-ignore format: a list reads better packed
const RESERVED_CLAIMS = new Set([
  'sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid',
  'at_hash', 'c_hash', 's_hash', 'client_id', 'scope', 'cnf', 'roles', 'role', 'idp', 'groups', 'email',
  'email_verified', 'name', 'preferred_username', 'typ',
]);

/** Attributes that hold password material: never copied into a token. */
// biome-ignore format: a list reads better packed
const SECRET_ATTRIBUTES = new Set(
  [
    'userPassword', 'unicodePwd', 'dBCSPwd', 'ntPwdHistory', 'lmPwdHistory', 'supplementalCredentials',
    'authPassword', 'sambaNTPassword', 'sambaLMPassword', 'msDS-ManagedPassword', 'pwdHistory',
  ].map((name) => name.toLowerCase()),
);

const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

const claims = z
  .record(
    z.string(),
    attribute.refine((name) => !SECRET_ATTRIBUTES.has(name.toLowerCase()), {
      message: 'holds password material and may not become a claim',
    }),
  )
  .superRefine((mapping, ctx) => {
    for (const claim of Object.keys(mapping)) {
      if (!CLAIM_NAME.test(claim))
        ctx.addIssue({ code: 'custom', path: [claim], message: 'must be a claim name' });
      else if (RESERVED_CLAIMS.has(claim))
        ctx.addIssue({ code: 'custom', path: [claim], message: 'is a claim Lock sets itself' });
    }
  })
  .default({});

const userSearch = z.strictObject({
  baseDN: dn,
  scope: scope.default('sub'),
  filter: ldapFilter.optional(),
  usernameAttributes: z.array(attribute).min(1).max(10).optional(),
  preferredUsernameAttribute: attribute.optional(),
  idAttribute: attribute.optional(),
  emailAttribute: attribute.optional(),
  nameAttribute: attribute.optional(),
  claims,
});

const groupSearch = z.strictObject({
  mode: z.enum(['memberOf', 'search', 'nested', 'adInChain']).optional(),
  baseDN: dn.optional(),
  scope: scope.default('sub'),
  filter: ldapFilter.optional(),
  memberAttribute: z.enum(['member', 'uniqueMember', 'memberUid']).default('member'),
  userAttribute: attribute.optional(),
  nameAttribute: attribute.default('cn'),
  maxDepth: z.int().min(1).max(20).default(5),
});

export const ldapConfigSchema = z
  .strictObject({
    url: ldapUrl.optional(),
    urls: z.array(ldapUrl).min(1).max(10).optional(),
    startTLS: z.boolean().default(false),
    caCert: z
      .string()
      .includes('-----BEGIN CERTIFICATE-----', { message: 'must be PEM (-----BEGIN CERTIFICATE-----)' })
      .optional(),
    caFile: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().default(false),
    insecureNoTLS: z.boolean().default(false),
    connectTimeoutMs: z.int().min(100).max(60_000).default(5000),
    timeoutMs: z.int().min(100).max(120_000).default(5000),
    bindDN: dn,
    bindPassword: z.string().min(1, 'is required: Lock searches the directory as this account'),
    activeDirectory: z.boolean().default(false),
    userSearch,
    groupSearch: groupSearch.optional(),
    pageSize: z.int().min(1).max(10_000).default(500),
    poolSize: z.int().min(1).max(50).default(4),
  })
  .superRefine((raw, ctx) => {
    const config = raw as Partial<Record<keyof typeof raw, unknown>>;
    const problem = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (config.url === undefined && config.urls === undefined)
      problem(['url'], 'is required (or urls: servers in failover order)');
    if (config.url !== undefined && config.urls !== undefined)
      problem(['urls'], 'give url (one server) or urls (servers in failover order), not both');
    const urls = (Array.isArray(config.urls) ? config.urls : [config.url]).filter(
      (url): url is string => typeof url === 'string',
    );
    if (config.caCert !== undefined && config.caFile !== undefined)
      problem(['caFile'], 'give caCert or caFile, not both');
    if (config.startTLS === true && urls.some((url) => /^ldaps:/i.test(url)))
      problem(['startTLS'], 'startTLS upgrades ldap:// connections; ldaps:// is TLS already');
    if (config.startTLS !== true && config.insecureNoTLS !== true && urls.some((url) => /^ldap:/i.test(url)))
      problem(
        ['startTLS'],
        'ldap:// sends passwords in clear text: set startTLS: true, use ldaps://, or (tests only) insecureNoTLS: true',
      );
    const groups = isObject(config.groupSearch) ? config.groupSearch : undefined;
    const mode = groups?.mode ?? (config.activeDirectory === true ? 'adInChain' : undefined);
    if (groups && mode === undefined)
      problem(['groupSearch', 'mode'], 'is required: memberOf, search, nested or adInChain');
    if (mode === 'nested' && groups?.memberAttribute === 'memberUid')
      problem(
        ['groupSearch', 'mode'],
        'nested groups need a DN-valued memberAttribute (member or uniqueMember)',
      );
    if (mode === 'adInChain' && groups && (groups.memberAttribute ?? 'member') !== 'member')
      problem(['groupSearch', 'memberAttribute'], 'adInChain walks the member attribute');
  }, evenWithOtherProblems);

export type LdapConfig = z.output<typeof ldapConfigSchema>;
export type GroupMode = 'memberOf' | 'search' | 'nested' | 'adInChain';

/** A connector's configuration with every default filled in. */
export interface LdapSettings {
  urls: string[];
  startTLS: boolean;
  caCert?: string;
  caFile?: string;
  insecureSkipVerify: boolean;
  insecureNoTLS: boolean;
  connectTimeoutMs: number;
  timeoutMs: number;
  bindDN: string;
  bindPassword: string;
  activeDirectory: boolean;
  userSearch: {
    baseDN: string;
    scope: 'sub' | 'one';
    filter: string;
    usernameAttributes: string[];
    preferredUsernameAttribute: string;
    idAttribute: string;
    emailAttribute: string;
    nameAttribute: string;
    claims: Record<string, string>;
  };
  groupSearch?: {
    mode: GroupMode;
    baseDN: string;
    scope: 'sub' | 'one';
    filter: string;
    memberAttribute: 'member' | 'uniqueMember' | 'memberUid';
    /** The user's attribute that memberAttribute holds: `dn`, or e.g. `uid` for memberUid. */
    userAttribute: string;
    nameAttribute: string;
    maxDepth: number;
  };
  pageSize: number;
  poolSize: number;
}

/** The defaults of a generic directory (OpenLDAP, 389-DS) and of the Active Directory preset. */
const DEFAULTS = {
  generic: {
    userFilter: '(objectClass=person)',
    usernameAttributes: ['uid'],
    idAttribute: 'entryUUID',
    nameAttribute: 'cn',
    groupFilter:
      '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup)(objectClass=group))',
  },
  activeDirectory: {
    userFilter: '(&(objectCategory=person)(objectClass=user))',
    usernameAttributes: ['sAMAccountName', 'userPrincipalName'],
    idAttribute: 'objectGUID',
    nameAttribute: 'displayName',
    groupFilter: '(objectClass=group)',
  },
} as const;

/** Parses a stored or declared config and fills in the defaults (of the AD preset where it is on). */
export function resolveLdapSettings(raw: unknown): LdapSettings {
  const config = ldapConfigSchema.parse(raw);
  const preset = config.activeDirectory ? DEFAULTS.activeDirectory : DEFAULTS.generic;
  const user = config.userSearch;
  const usernameAttributes = user.usernameAttributes ?? [...preset.usernameAttributes];
  const groups = config.groupSearch ?? (config.activeDirectory ? groupSearch.parse({}) : undefined);
  const mode = groups?.mode ?? (config.activeDirectory ? 'adInChain' : 'search');
  return {
    urls: config.urls ?? [config.url!],
    startTLS: config.startTLS,
    ...(config.caCert !== undefined && { caCert: config.caCert }),
    ...(config.caFile !== undefined && { caFile: config.caFile }),
    insecureSkipVerify: config.insecureSkipVerify,
    insecureNoTLS: config.insecureNoTLS,
    connectTimeoutMs: config.connectTimeoutMs,
    timeoutMs: config.timeoutMs,
    bindDN: config.bindDN,
    bindPassword: config.bindPassword,
    activeDirectory: config.activeDirectory,
    userSearch: {
      baseDN: user.baseDN,
      scope: user.scope,
      filter: user.filter ?? preset.userFilter,
      usernameAttributes,
      preferredUsernameAttribute: user.preferredUsernameAttribute ?? usernameAttributes[0]!,
      idAttribute: user.idAttribute ?? preset.idAttribute,
      emailAttribute: user.emailAttribute ?? 'mail',
      nameAttribute: user.nameAttribute ?? preset.nameAttribute,
      claims: user.claims,
    },
    ...(groups && {
      groupSearch: {
        mode,
        baseDN: groups.baseDN ?? user.baseDN,
        scope: groups.scope,
        filter: groups.filter ?? preset.groupFilter,
        memberAttribute: groups.memberAttribute,
        userAttribute: groups.userAttribute ?? (groups.memberAttribute === 'memberUid' ? 'uid' : 'dn'),
        nameAttribute: groups.nameAttribute,
        maxDepth: groups.maxDepth,
      },
    }),
    pageSize: config.pageSize,
    poolSize: config.poolSize,
  };
}

/** The custom claim names a config adds (oidc-provider only emits claims it was told about). */
export function ldapClaimNames(raw: unknown): string[] {
  const mapping = (raw as { userSearch?: { claims?: unknown } } | undefined)?.userSearch?.claims;
  if (typeof mapping !== 'object' || mapping === null) return [];
  return Object.keys(mapping).filter((claim) => CLAIM_NAME.test(claim) && !RESERVED_CLAIMS.has(claim));
}
