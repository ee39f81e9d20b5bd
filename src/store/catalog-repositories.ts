import type { ClientDecl } from '../model/client.ts';
import type { ConnectorDecl } from '../model/connector.ts';
import type { ResourceDecl } from '../model/resource.ts';
import type { RoleDecl } from '../model/role.ts';
import type { RoleMappingDecl } from '../model/role-mapping.ts';
import type { SigningAlg } from '../model/signing-alg.ts';
import { ADVISORY_LOCKS, holdTransactionLock } from './advisory-locks.ts';
import type { Queryable } from './pool.ts';

/** Who owns a row: `config` for the declarative file, null for admins (API/CLI). */
export type ManagedBy = 'config' | null;
export type Managed<T> = T & { managedBy: ManagedBy };

// Roles ---------------------------------------------------------------------------------------

/** Roles in priority order; `position` is that order. */
export async function listRoles(db: Queryable): Promise<Managed<RoleDecl & { position: number }>[]> {
  const { rows } = await db.query<{
    name: string;
    description: string | null;
    position: number;
    managed_by: ManagedBy;
  }>('SELECT name, description, position, managed_by FROM roles ORDER BY position, name');
  return rows.map((row) => ({
    name: row.name,
    ...(row.description !== null && { description: row.description }),
    position: row.position,
    managedBy: row.managed_by,
  }));
}

export async function upsertRole(
  db: Queryable,
  role: RoleDecl,
  position: number,
  managedBy: ManagedBy,
): Promise<void> {
  await db.query(
    `INSERT INTO roles (name, description, position, managed_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (name) DO UPDATE SET description = $2, position = $3, managed_by = $4`,
    [role.name, role.description ?? null, position, managedBy],
  );
}

/** Creates the role (last in priority) unless it exists; never changes an existing one. */
export async function ensureRole(db: Queryable, name: string, description: string): Promise<void> {
  await db.query(
    `INSERT INTO roles (name, description, position) SELECT $1, $2, coalesce(max(position), 0) + 1 FROM roles
     ON CONFLICT (name) DO NOTHING`,
    [name, description],
  );
}

/** Numbers the roles 0, 1, 2… in the order given (a role left out keeps its number). */
export async function setRolePositions(db: Queryable, names: string[]): Promise<void> {
  await db.query(
    `UPDATE roles SET position = ordered.ordinality - 1
       FROM unnest($1::text[]) WITH ORDINALITY AS ordered(name, ordinality)
      WHERE roles.name = ordered.name AND roles.position <> ordered.ordinality - 1`,
    [names],
  );
}

export async function deleteRole(db: Queryable, name: string): Promise<void> {
  await db.query('DELETE FROM roles WHERE name = $1', [name]);
}

// Resources -----------------------------------------------------------------------------------

interface ResourceRow {
  id: string;
  scopes: string[];
  roles: string[];
  role_claim: string | null;
  default_role: string | null;
  access_token_ttl: number;
  signing_alg: SigningAlg;
  access_token_format: ResourceDecl['accessTokenFormat'];
  claims_namespace: ResourceDecl['claimsNamespace'] | null;
  managed_by: ManagedBy;
  require_dpop: boolean;
}

export async function listResources(db: Queryable): Promise<Managed<ResourceDecl>[]> {
  const { rows } = await db.query<ResourceRow>(
    `SELECT id, scopes, roles, role_claim, default_role, access_token_ttl, signing_alg, access_token_format,
            claims_namespace, managed_by, require_dpop
     FROM resources ORDER BY id`,
  );
  return rows.map((row) => ({
    id: row.id,
    scopes: row.scopes,
    roles: row.roles,
    ...(row.role_claim !== null && { roleClaim: row.role_claim }),
    ...(row.default_role !== null && { defaultRole: row.default_role }),
    accessTokenTTL: row.access_token_ttl,
    signingAlg: row.signing_alg,
    accessTokenFormat: row.access_token_format,
    ...(row.claims_namespace !== null && { claimsNamespace: row.claims_namespace }),
    requireDpop: row.require_dpop,
    managedBy: row.managed_by,
  }));
}

export async function upsertResource(
  db: Queryable,
  resource: ResourceDecl,
  managedBy: ManagedBy,
): Promise<void> {
  await db.query(
    `INSERT INTO resources (id, scopes, roles, role_claim, default_role, access_token_ttl, signing_alg, managed_by,
                            access_token_format, claims_namespace, require_dpop)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (id) DO UPDATE SET scopes = $2, roles = $3, role_claim = $4, default_role = $5,
       access_token_ttl = $6, signing_alg = $7, managed_by = $8, access_token_format = $9, claims_namespace = $10,
       require_dpop = $11`,
    [
      resource.id,
      resource.scopes,
      resource.roles,
      resource.roleClaim ?? null,
      resource.defaultRole ?? null,
      resource.accessTokenTTL,
      resource.signingAlg,
      managedBy,
      resource.accessTokenFormat,
      resource.claimsNamespace ?? null,
      resource.requireDpop,
    ],
  );
}

export async function deleteResource(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM resources WHERE id = $1', [id]);
}

// Clients -------------------------------------------------------------------------------------

/** A client as stored: the secret stays sealed until the one place that needs it opens it. */
export type StoredClient = Managed<Omit<ClientDecl, 'clientSecret'> & { sealedSecret?: string }>;

interface ClientRow {
  client_id: string;
  client_secret: string | null;
  public: boolean;
  first_party: boolean;
  name: string | null;
  grant_types: ClientDecl['grantTypes'];
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  allowed_origins: string[];
  require_mfa: boolean;
  require_passkey: boolean;
  roles: string[];
  resources: string[];
  introspects: string[];
  token_exchange: ClientDecl['tokenExchange'] | null;
  backchannel_logout_uri: string | null;
  backchannel_logout_session_required: boolean;
  dpop_bound_access_tokens: boolean;
  require_pushed_authorization_requests: boolean;
  id_token_signing_alg: ClientDecl['idTokenSigningAlg'];
  managed_by: ManagedBy;
  token_endpoint_auth_method: ClientDecl['tokenEndpointAuthMethod'] | null;
  jwks: ClientDecl['jwks'] | null;
  jwks_uri: string | null;
}

export async function listClients(db: Queryable): Promise<StoredClient[]> {
  const { rows } = await db.query<ClientRow>(
    `SELECT client_id, client_secret, public, first_party, name, grant_types, redirect_uris,
            post_logout_redirect_uris, allowed_origins, require_mfa, require_passkey, roles, resources, introspects,
            token_exchange, managed_by, token_endpoint_auth_method, jwks, jwks_uri, backchannel_logout_uri, backchannel_logout_session_required,
            dpop_bound_access_tokens, require_pushed_authorization_requests, id_token_signing_alg
     FROM clients ORDER BY client_id`,
  );
  return rows.map((row) => ({
    clientId: row.client_id,
    ...(row.client_secret !== null && { sealedSecret: row.client_secret }),
    public: row.public,
    firstParty: row.first_party,
    ...(row.name !== null && { name: row.name }),
    grantTypes: row.grant_types,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris,
    allowedOrigins: row.allowed_origins,
    requireMfa: row.require_mfa,
    requirePasskey: row.require_passkey,
    roles: row.roles,
    resources: row.resources,
    introspects: row.introspects,
    ...(row.token_exchange !== null && { tokenExchange: row.token_exchange }),
    ...(row.backchannel_logout_uri !== null && { backchannelLogoutUri: row.backchannel_logout_uri }),
    backchannelLogoutSessionRequired: row.backchannel_logout_session_required,
    dpopBoundAccessTokens: row.dpop_bound_access_tokens,
    requirePushedAuthorizationRequests: row.require_pushed_authorization_requests,
    idTokenSigningAlg: row.id_token_signing_alg,
    managedBy: row.managed_by,
    ...(row.token_endpoint_auth_method !== null && {
      tokenEndpointAuthMethod: row.token_endpoint_auth_method,
    }),
    ...(row.jwks !== null && { jwks: row.jwks }),
    ...(row.jwks_uri !== null && { jwksUri: row.jwks_uri }),
  }));
}

export async function upsertClient(db: Queryable, client: StoredClient): Promise<void> {
  await db.query(
    `INSERT INTO clients (client_id, client_secret, public, first_party, name, grant_types, redirect_uris,
                          post_logout_redirect_uris, roles, resources, managed_by, allowed_origins, require_mfa,
                          introspects, token_exchange, token_endpoint_auth_method, jwks, jwks_uri,
                          backchannel_logout_uri, backchannel_logout_session_required,
                          dpop_bound_access_tokens, require_pushed_authorization_requests, require_passkey,
                          id_token_signing_alg)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23,
             $24)
     ON CONFLICT (client_id) DO UPDATE SET client_secret = $2, public = $3, first_party = $4, name = $5,
       grant_types = $6, redirect_uris = $7, post_logout_redirect_uris = $8, roles = $9, resources = $10,
       managed_by = $11, allowed_origins = $12, require_mfa = $13, introspects = $14, token_exchange = $15,
       token_endpoint_auth_method = $16, jwks = $17, jwks_uri = $18,
       backchannel_logout_uri = $19, backchannel_logout_session_required = $20,
       dpop_bound_access_tokens = $21, require_pushed_authorization_requests = $22, require_passkey = $23,
       id_token_signing_alg = $24`,
    [
      client.clientId,
      client.sealedSecret ?? null,
      client.public,
      client.firstParty,
      client.name ?? null,
      client.grantTypes,
      client.redirectUris,
      client.postLogoutRedirectUris,
      client.roles,
      client.resources,
      client.managedBy,
      client.allowedOrigins,
      client.requireMfa,
      client.introspects,
      client.tokenExchange ?? null,
      client.tokenEndpointAuthMethod ?? null,
      client.jwks ?? null,
      client.jwksUri ?? null,
      client.backchannelLogoutUri ?? null,
      client.backchannelLogoutSessionRequired,
      client.dpopBoundAccessTokens,
      client.requirePushedAuthorizationRequests,
      client.requirePasskey,
      client.idTokenSigningAlg,
    ],
  );
}

export async function deleteClient(db: Queryable, clientId: string): Promise<void> {
  await db.query('DELETE FROM clients WHERE client_id = $1', [clientId]);
}

// Connectors ----------------------------------------------------------------------------------

/** A connector as stored: secret members of `config` are sealed (see connector-secrets.ts). */
export type StoredConnector = Managed<ConnectorDecl & { position: number }>;

/** Connectors in the order the login page tries and shows them. */
export async function listConnectors(db: Queryable): Promise<StoredConnector[]> {
  const { rows } = await db.query<{
    id: string;
    type: ConnectorDecl['type'];
    name: string;
    position: number;
    config: Record<string, unknown>;
    managed_by: ManagedBy;
  }>('SELECT id, type, name, position, config, managed_by FROM connectors ORDER BY position, id');
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    name: row.name,
    position: row.position,
    config: row.config,
    managedBy: row.managed_by,
  }));
}

export async function upsertConnector(db: Queryable, connector: StoredConnector): Promise<void> {
  const position = connector.position;
  await db.query(
    `INSERT INTO connectors (id, type, name, position, config, managed_by) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET type = $2, name = $3, position = $4, config = $5, managed_by = $6`,
    [connector.id, connector.type, connector.name, position, connector.config, connector.managedBy],
  );
}

export async function deleteConnector(db: Queryable, id: string): Promise<void> {
  await db.query('DELETE FROM connectors WHERE id = $1', [id]);
}

// Role mappings -------------------------------------------------------------------------------

export async function listRoleMappings(db: Queryable): Promise<Managed<RoleMappingDecl>[]> {
  const { rows } = await db.query<{
    connector: string;
    group_name: string;
    roles: string[];
    managed_by: ManagedBy;
  }>('SELECT connector, group_name, roles, managed_by FROM role_mappings ORDER BY connector, group_name');
  return rows.map((row) => ({
    connector: row.connector,
    group: row.group_name,
    roles: row.roles,
    managedBy: row.managed_by,
  }));
}

export async function upsertRoleMapping(
  db: Queryable,
  mapping: RoleMappingDecl,
  managedBy: ManagedBy,
): Promise<void> {
  await db.query(
    `INSERT INTO role_mappings (connector, group_name, roles, managed_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT (connector, group_name) DO UPDATE SET roles = $3, managed_by = $4`,
    [mapping.connector, mapping.group, mapping.roles, managedBy],
  );
}

export async function deleteRoleMapping(db: Queryable, connector: string, group: string): Promise<void> {
  await db.query('DELETE FROM role_mappings WHERE connector = $1 AND group_name = $2', [connector, group]);
}

// Writes --------------------------------------------------------------------------------------

/**
 * Serialises changes to the catalog (admin API, CLI, declarative apply) for the rest of the
 * transaction, so that a check made inside it (does the role exist? is the ETag current?) still
 * holds when it commits.
 */
export async function lockCatalogForWrite(db: Queryable): Promise<void> {
  await holdTransactionLock(db, ADVISORY_LOCKS.catalogWrite);
}

/** The position after the last role or connector: where a new one goes. */
export async function nextPosition(db: Queryable, table: 'roles' | 'connectors'): Promise<number> {
  const sql = {
    roles: 'SELECT coalesce(max(position) + 1, 0) AS next FROM roles',
    connectors: 'SELECT coalesce(max(position) + 1, 0) AS next FROM connectors',
  }[table];
  const { rows } = await db.query<{ next: number }>(sql);
  return rows[0]!.next;
}
