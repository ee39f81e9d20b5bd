import { z } from 'zod';
import { absoluteUrl, entityName, unique } from './schema-checks.ts';
import { SIGNING_ALGS } from './signing-alg.ts';

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

/** An API that clients get access tokens for. */
export const resourceSchema = z.strictObject({
  id: absoluteUrl,
  scopes: unique(
    z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token (RFC 6749 §3.3)'),
    'scopes',
  ).default([]),
  roles: unique(entityName, 'roles').default([]),
  roleClaim: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]*$/, 'must be a claim name')
    .optional(),
  defaultRole: entityName.optional(),
  accessTokenTTL: z.number().int().min(1).max(86_400).default(300),
  signingAlg: z.enum(SIGNING_ALGS).default('RS256'),
  /** `opaque`: a reference the API (or its gateway) introspects, for tokens that leave the network. */
  accessTokenFormat: z.enum(ACCESS_TOKEN_FORMATS).default('jwt'),
  /** RFC 9449: Lock issues tokens for this API only to a request with a DPoP proof (bound, `cnf.jkt`). */
  requireDpop: z.boolean().default(false),
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

export type ResourceDecl = z.output<typeof resourceSchema>;
/** A resource as the running server knows it (declared, created by an admin, or built in). */
export type Resource = ResourceDecl;
