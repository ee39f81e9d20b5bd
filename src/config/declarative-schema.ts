import { z } from 'zod';
import { evenWithOtherProblems } from '../connectors/config-checks.ts';
import { checkConnectorConfig } from '../connectors/config-schemas.ts';
import { redirectUriSchema } from './redirect-uri.ts';

export const SIGNING_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];
/** RFC 8693: a gateway swaps a caller's access token for a narrower one for the API behind it. */
export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const GRANT_TYPES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  TOKEN_EXCHANGE,
] as const;
export const ACCESS_TOKEN_FORMATS = ['jwt', 'opaque'] as const;
/** Claims of Lock's access tokens that a namespaced claim may not replace. */
const RESERVED_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'client_id',
  'scope',
  'roles',
  'act',
  'cnf',
  'idp',
  'auth_time',
  'amr',
  'acr',
];
/** What a namespaced claim can be copied from (see docs/postgrest-hasura.md). */
export const CLAIM_SOURCES = ['sub', 'client_id', 'roles', 'role', 'scope', 'idp'] as const;
export const CONNECTOR_TYPES = ['local', 'ldap', 'saml'] as const;

const name = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,62}$/, 'must be 1-63 letters, digits, _ . : -');
const absoluteUrl = z.url({ message: 'must be an absolute URL' });
const webOrigin = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, 'must be an origin: scheme://host[:port], no path')
  .transform((value) => new URL(value).origin);
const redirectUri = redirectUriSchema;

/** The members of a half-parsed object whose type is as expected; others read as undefined. */
function partial<T extends Record<string, unknown>>(
  value: unknown,
  types: Partial<Record<keyof T, 'boolean' | 'string' | 'array' | 'object'>>,
): Partial<T> {
  const record = (value ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) {
    const expected = types[key as keyof T];
    const ok =
      expected === undefined ||
      (expected === 'array'
        ? Array.isArray(item)
        : expected === 'object'
          ? item !== null && typeof item === 'object' && !Array.isArray(item)
          : typeof item === expected);
    if (ok) out[key] = item;
  }
  return out as Partial<T>;
}

const unique = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).refine((list) => new Set(list).size === list.length, `${what} must not repeat`);

export const roleSchema = z.strictObject({
  name,
  description: z.string().max(500).optional(),
});

export const resourceSchema = z.strictObject({
  id: absoluteUrl,
  scopes: unique(
    z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token (RFC 6749 §3.3)'),
    'scopes',
  ).default([]),
  roles: unique(name, 'roles').default([]),
  roleClaim: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]*$/, 'must be a claim name')
    .optional(),
  defaultRole: name.optional(),
  accessTokenTTL: z.number().int().min(1).max(86_400).default(300),
  signingAlg: z.enum(SIGNING_ALGS).default('RS256'),
  /** `opaque`: a reference the API (or its gateway) introspects, for tokens that leave the network. */
  accessTokenFormat: z.enum(ACCESS_TOKEN_FORMATS).default('jwt'),
  /** Claims copied under one namespaced claim, as Hasura wants (`https://hasura.io/jwt/claims`). */
  claimsNamespace: z
    .strictObject({
      claim: z
        .string()
        .min(1)
        .max(200)
        .refine((claim) => !RESERVED_CLAIMS.includes(claim), 'must not be a claim Lock sets itself'),
      claims: z
        .record(z.string().min(1).max(200), z.enum(CLAIM_SOURCES))
        .refine((claims) => Object.keys(claims).length > 0, 'must name at least one claim'),
    })
    .optional(),
});

export const clientSchema = z
  .strictObject({
    clientId: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1-128 visible ASCII characters'),
    clientSecret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
    public: z.boolean().default(false),
    firstParty: z.boolean().default(false),
    name: z.string().max(200).optional(),
    grantTypes: unique(z.enum(GRANT_TYPES), 'grantTypes')
      .min(1)
      .default(['authorization_code', 'refresh_token']),
    redirectUris: unique(redirectUri, 'redirectUris').default([]),
    postLogoutRedirectUris: unique(redirectUri, 'postLogoutRedirectUris').default([]),
    /** Web origins that may call the token, userinfo and revocation endpoints (CORS). */
    allowedOrigins: unique(webOrigin, 'allowedOrigins').default([]),
    /** Everyone signing in to this client must use a second factor (TOTP for local accounts). */
    requireMfa: z.boolean().default(false),
    roles: unique(name, 'roles').default([]),
    resources: unique(absoluteUrl, 'resources').default([]),
    /** APIs whose tokens this client may introspect besides its own (a gateway in front of them). */
    introspects: unique(absoluteUrl, 'introspects').default([]),
    /** Token exchange policy: the audiences of the callers' tokens it may exchange (for its `resources`). */
    tokenExchange: z
      .strictObject({ subjectAudiences: unique(absoluteUrl, 'subjectAudiences').min(1) })
      .optional(),
  })
  .superRefine((parsed, ctx) => {
    // Runs even when a field failed (see evenWithOtherProblems), so each rule reads only fields that parsed.
    const client = partial<{
      public: boolean;
      clientSecret: unknown;
      grantTypes: string[];
      redirectUris: unknown[];
      tokenExchange: unknown;
    }>(parsed, { public: 'boolean', grantTypes: 'array', redirectUris: 'array' });
    if (client.public === true && client.clientSecret !== undefined)
      ctx.addIssue({ code: 'custom', path: ['clientSecret'], message: 'a public client has no secret' });
    if (client.public === false && client.clientSecret === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clientSecret'],
        message: 'is required for a confidential client (or set public: true)',
      });
    if (!client.grantTypes) return;
    for (const grantType of ['client_credentials', TOKEN_EXCHANGE] as const)
      if (client.public === true && client.grantTypes.includes(grantType))
        ctx.addIssue({
          code: 'custom',
          path: ['grantTypes'],
          message: `${grantType} needs a confidential client`,
        });
    if (client.grantTypes.includes(TOKEN_EXCHANGE) !== (client.tokenExchange !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['tokenExchange'],
        message: `is required with grant type ${TOKEN_EXCHANGE}, and only with it`,
      });
    if (client.grantTypes.includes('authorization_code') && client.redirectUris?.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['redirectUris'],
        message: 'at least one is required for authorization_code',
      });
    if (client.grantTypes.includes('refresh_token') && !client.grantTypes.includes('authorization_code'))
      ctx.addIssue({
        code: 'custom',
        path: ['grantTypes'],
        message: 'refresh_token needs authorization_code',
      });
  }, evenWithOtherProblems);

export const connectorSchema = z
  .strictObject({
    id: name,
    type: z.enum(CONNECTOR_TYPES),
    name: z.string().min(1).max(100),
    config: z.record(z.string(), z.unknown()).default({}),
  })
  .superRefine((connector, ctx) => void checkConnectorConfig(connector, ctx), evenWithOtherProblems)
  .transform((connector, ctx) => ({ ...connector, config: checkConnectorConfig(connector, ctx)! }));

export const roleMappingSchema = z.strictObject({
  connector: z.union([name, z.literal('*')]),
  group: z.string().min(1).max(1000),
  roles: unique(name, 'roles').min(1),
});

/** A local account's group: any non-empty name (directories' DNs included). */
export const groupNameSchema = z.string().min(1).max(1000);

export const userSchema = z
  .strictObject({
    username: z.string().min(1).max(256),
    email: z.email().optional(),
    name: z.string().max(200).optional(),
    password: z.string().min(1).max(1024).optional(),
    passwordHash: z.string().startsWith('$argon2', 'must be an argon2 hash').optional(),
    groups: unique(groupNameSchema, 'groups').default([]),
    roles: unique(name, 'roles').default([]),
    disabled: z.boolean().default(false),
  })
  .refine(
    (user) => {
      const { password, passwordHash } = partial<{ password: string; passwordHash: string }>(user, {});
      return !(password && passwordHash);
    },
    { path: ['passwordHash'], message: 'give password or passwordHash, not both', ...evenWithOtherProblems },
  );

export const declarativeSchema = z.strictObject({
  roles: z.array(roleSchema).default([]),
  resources: z.array(resourceSchema).default([]),
  clients: z.array(clientSchema).default([]),
  connectors: z.array(connectorSchema).default([]),
  roleMappings: z.array(roleMappingSchema).default([]),
  users: z.array(userSchema).default([]),
});

export type DeclarativeConfig = z.output<typeof declarativeSchema>;
export type RoleDecl = z.output<typeof roleSchema>;
export type ResourceDecl = z.output<typeof resourceSchema>;
export type ClientDecl = z.output<typeof clientSchema>;
export type ConnectorDecl = z.output<typeof connectorSchema>;
export type RoleMappingDecl = z.output<typeof roleMappingSchema>;
export type UserDecl = z.output<typeof userSchema>;
