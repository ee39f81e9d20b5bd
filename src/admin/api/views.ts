import { z } from 'zod';
import { CONNECTOR_TYPE_NAMES } from '../../connectors/registry.ts';
import { CLIENT_AUTH_METHODS } from '../../model/client-keys.ts';
import { resourceSchema } from '../../model/resource.ts';
import { roleMappingSchema } from '../../model/role-mapping.ts';
import { SIGNING_ALGS } from '../../model/signing-alg.ts';
import { roleInputSchema } from '../roles.ts';

/**
 * What the admin API answers, as zod schemas: the OpenAPI document's response schemas, and what
 * the tests check every response against.
 */

const names = new Map<z.ZodType, string>();

/** A schema with a name in the OpenAPI document's components. */
export function component<T extends z.ZodType>(name: string, schema: T): T {
  names.set(schema, name);
  return schema;
}

export const componentName = (schema: z.ZodType) => names.get(schema);

const owner = z
  .enum(['config', 'builtin'])
  .nullable()
  .describe('config: the declarative file owns it (change it there); builtin: part of Lock; null: admins');

const timestamp = z.iso.datetime({ offset: true });

export const problemSchema = component(
  'Problem',
  z.object({ path: z.string().describe('the field, as in the declarative file'), message: z.string() }),
);

export const testReportSchema = component(
  'ConnectionTestReport',
  z.object({
    ok: z.boolean(),
    url: z.string().optional(),
    steps: z.array(
      z.object({ step: z.string(), ok: z.boolean(), detail: z.string(), durationMs: z.number() }),
    ),
  }),
);

/** RFC 9457 problem details (application/problem+json): every admin API error. */
export const errorSchema = component(
  'ProblemDetails',
  z.object({
    type: z
      .string()
      .describe('urn:lock:problem:<code>: what kind of error (docs/admin-api.md lists the codes)'),
    title: z.string().describe('a short summary of the type'),
    status: z.int().describe('the HTTP status'),
    detail: z.string().describe('what went wrong with this request, in words a person can act on'),
    error: z.string().describe('the same as detail: the member clients read before problem details'),
    problems: z.array(problemSchema).optional().describe('each input field at fault'),
    test: testReportSchema.optional().describe('the connection test that failed (saving a connector)'),
  }),
);

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    next: z.string().nullable().optional().describe('cursor of the next page'),
  });

export const roleView = component('Role', roleInputSchema.extend({ position: z.int(), managedBy: owner }));

export const resourceView = component('Resource', resourceSchema.extend({ managedBy: owner }));

export const clientView = component(
  'Client',
  z.object({
    clientId: z.string(),
    name: z.string().optional(),
    public: z.boolean(),
    firstParty: z.boolean(),
    grantTypes: z.array(z.string()),
    redirectUris: z.array(z.string()),
    postLogoutRedirectUris: z.array(z.string()),
    allowedOrigins: z.array(z.string()),
    requireMfa: z.boolean(),
    requirePasskey: z.boolean().describe('local accounts must sign in with a passkey (docs/passkeys.md)'),
    roles: z.array(z.string()),
    resources: z.array(z.string()),
    introspects: z.array(z.string()),
    tokenExchange: z.object({ subjectAudiences: z.array(z.string()) }).optional(),
    tokenEndpointAuthMethod: z.enum(CLIENT_AUTH_METHODS).optional(),
    jwks: z
      .object({ keys: z.array(z.record(z.string(), z.unknown())) })
      .optional()
      .describe('public keys only'),
    jwksUri: z.string().optional(),
    backchannelLogoutUri: z.string().optional(),
    backchannelLogoutSessionRequired: z.boolean(),
    dpopBoundAccessTokens: z.boolean(),
    requirePushedAuthorizationRequests: z.boolean(),
    idTokenSigningAlg: z.enum(SIGNING_ALGS).describe('the JWS algorithm of its ID tokens (docs/tokens.md)'),
    hasSecret: z.boolean(),
    managedBy: owner,
  }),
);

export const clientWithSecretView = component(
  'ClientWithSecret',
  clientView.extend({
    clientSecret: z.string().optional().describe('shown in this response only: store it now'),
    warnings: z
      .array(z.string())
      .optional()
      .describe('what the change risks, e.g. that the client now holds lock_admin (also logged and audited)'),
  }),
);

export const connectorView = component(
  'Connector',
  z.object({
    id: z.string(),
    type: z.enum(CONNECTOR_TYPE_NAMES),
    name: z.string(),
    position: z.int(),
    config: z.record(z.string(), z.unknown()).describe('the config without its secret members'),
    setSecrets: z.array(z.string()).describe('paths of the secret members that are set (write-only)'),
    managedBy: owner,
    redirectUri: z
      .url()
      .optional()
      .describe(
        'read-only, OAuth 2.0 / OpenID Connect types: register exactly this redirect URI at the upstream (`<LOCK_ISSUER>/sso/<id>/callback`)',
      ),
    test: testReportSchema.optional().describe('the connection test run when saving'),
  }),
);

export const roleMappingView = component('RoleMapping', roleMappingSchema.extend({ managedBy: owner }));

export const userView = component(
  'User',
  z.object({
    id: z.uuid(),
    username: z.string(),
    email: z.string().optional(),
    emailVerified: z
      .boolean()
      .describe('the person confirmed `email` from its mailbox (docs/email.md); a new email is unverified'),
    name: z.string().optional(),
    disabled: z.boolean(),
    hasPassword: z.boolean(),
    managedBy: owner,
    createdAt: timestamp,
    updatedAt: timestamp,
    groups: z.array(z.string()),
    roles: z.array(z.string()).describe('granted directly'),
    effectiveRoles: z.array(z.string()).describe('direct and through group mappings, in priority order'),
    connector: z.string().describe('read-only: the connector the account signs in through (local)'),
    lockedUntil: timestamp
      .nullable()
      .describe('read-only: sign-ins are refused until then (too many failed attempts); unlock lifts it'),
    secondFactor: z
      .object({ totp: z.boolean(), recoveryCodesLeft: z.int(), passkeys: z.int() })
      .describe(
        'read-only: whether an authenticator is enrolled, its unused recovery codes, and how many passkeys the account has',
      ),
    you: z.boolean().describe('read-only: the caller is signed in as this account'),
    lastAdmin: z
      .boolean()
      .describe('read-only: the only enabled account through which anyone holding lock_admin can sign in'),
  }),
);

export const userAppView = component(
  'UserApp',
  z.object({
    clientId: z.string().describe('the client holding access'),
    openidScopes: z
      .array(z.string())
      .describe('the OpenID scopes it holds (openid, profile, email, offline_access, …)'),
    apis: z
      .array(z.object({ indicator: z.string(), scopes: z.array(z.string()) }))
      .describe('the APIs (resource indicators) it may call for the person, with the scopes on each'),
    since: timestamp.describe('the earliest access of it that still stands'),
  }),
);

export const userPasskeyView = component(
  'UserPasskey',
  z.object({
    id: z.uuid(),
    name: z.string().describe('the name the person gave it'),
    createdAt: timestamp,
    lastUsedAt: timestamp.nullable().describe('its last sign-in; null if never used'),
    synced: z
      .boolean()
      .describe(
        'backup eligible: a passkey provider may sync it between devices; false: bound to one device',
      ),
    backedUp: z.boolean().describe('backed up, as the authenticator last said'),
    aaguid: z.string().describe('the authenticator model; all zeros when it did not say'),
  }),
);

export const groupSummaryView = component(
  'GroupSummary',
  z.object({ name: z.string(), managedBy: owner, memberCount: z.int() }),
);

export const groupView = component(
  'Group',
  z.object({
    name: z.string(),
    managedBy: owner,
    members: z.array(z.object({ id: z.uuid(), username: z.string() })),
  }),
);

export const signingKeyView = component(
  'SigningKey',
  z.object({
    kid: z.string(),
    alg: z.enum(SIGNING_ALGS),
    state: z.enum(['signing', 'next', 'retired']),
    createdAt: timestamp,
    activatesAt: timestamp,
    unpublishAt: timestamp.optional(),
    publicJwk: z.record(z.string(), z.unknown()),
  }),
);

export const addedKeyView = component(
  'AddedSigningKey',
  z.object({ kid: z.string(), alg: z.enum(SIGNING_ALGS), activatesAt: timestamp }),
);

export const auditEventView = component(
  'AuditEvent',
  z.object({
    id: z.string(),
    at: timestamp,
    type: z.string(),
    outcome: z.enum(['success', 'failure', 'error']),
    actor: z.string().nullable(),
    subject: z.string().nullable(),
    connector: z.string().nullable(),
    clientId: z.string().nullable(),
    reason: z.string().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    actorName: z
      .string()
      .nullable()
      .describe('the username of the account that acted, when the actor is one'),
    subjectName: z
      .string()
      .nullable()
      .describe('the username of the account the subject is, when it is a sub'),
  }),
);
