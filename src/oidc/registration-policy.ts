import { createHash, timingSafeEqual } from 'node:crypto';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Catalog } from '../catalog/catalog.ts';

/**
 * Dynamic client registration (RFC 7591) for MCP clients and other clients nobody declared.
 * Registered clients live in oidc-provider's own Client model (the `oidc_payloads` table, model
 * `Client`), not in Lock's catalog: the catalog stays what administrators declared, and a client
 * the catalog does not know is, by construction, a registered one. Everything a registered client
 * may do follows from this policy, read in one place (docs/mcp.md).
 */
export interface RegistrationPolicy {
  /** `open`: public clients register freely (loopback or allowlisted redirect URIs); `token`: every registration needs the initial access token. */
  mode: 'open' | 'token';
  /** The administrator's initial access token (RFC 7591 §3): needed by confidential clients, and by all in `token` mode. */
  initialAccessToken?: string;
  /** The resources (RFC 8707) registered clients may get tokens for: the cap. */
  resources: readonly string[];
  /** Redirect URIs, besides loopback ones, that an open registration may name (exact match). */
  redirectUris: readonly string[];
  /** OpenID scopes a registered client may ask for, besides the capped resources' own scopes. */
  scopes: readonly string[];
  /** A registration not used (no token issued) for this many seconds is deleted. */
  unusedTtlSeconds: number;
}

/** RFC 8252 §7.3: loopback IP literals, any port; `localhost` is not one (it may resolve elsewhere). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]']);

/** Metadata that makes Lock fetch or call a URL the registrant chose: only with the administrator's token. */
const FETCHED_URLS = [
  'jwks_uri',
  'sector_identifier_uri',
  'request_uris',
  'backchannel_logout_uri',
  'initiate_login_uri',
] as const;

const OPEN_GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);

/** oidc-provider's route names of the registration endpoint (create; RFC 7592 update). */
const REGISTRATION_ROUTES = new Set(['registration', 'client_update']);

/** The resources a client may get tokens for: its catalog entry's, or the policy's cap for a registered client. */
export function allowedResources(
  catalog: Catalog,
  clientId: string,
  policy: RegistrationPolicy | undefined,
): readonly string[] {
  const declared = catalog.clients.get(clientId);
  if (declared) return declared.resources;
  return policy?.resources ?? [];
}

export function isRegisteredClient(catalog: Catalog, clientId: string): boolean {
  return !catalog.clients.has(clientId);
}

function sameSecret(presented: string, wanted: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(wanted));
}

function presentedBearer(ctx: KoaContextWithOIDC): string | undefined {
  const header = ctx.get('authorization');
  if (header === '') return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  if (!match) throw new errors.InvalidToken('the Authorization header is not a bearer token');
  return match[1]!;
}

function isLoopbackRedirect(uri: string): boolean {
  try {
    const url = new URL(uri);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && url.hash === '';
  } catch {
    return false;
  }
}

/** The scopes a registered client may name: the policy's OpenID scopes and the capped resources' scopes. */
function scopeCap(policy: RegistrationPolicy, catalog: Catalog): Set<string> {
  const scopes = new Set(policy.scopes);
  for (const id of policy.resources)
    for (const scope of catalog.resources.get(id)?.scopes ?? []) scopes.add(scope);
  return scopes;
}

/**
 * oidc-provider's `extraClientMetadata.validator`: it sees every client's metadata as the client
 * is built, with the request at hand for a registration. Static clients (no registration route)
 * pass through untouched. Throws RFC 7591's errors: `invalid_redirect_uri`,
 * `invalid_client_metadata`, and RFC 6750's `invalid_token` for a wrong initial access token.
 */
export function enforceRegistrationPolicy(policy: RegistrationPolicy, catalog: () => Catalog) {
  return (ctx: KoaContextWithOIDC | undefined, metadata: Record<string, unknown>): void => {
    if (!ctx?.oidc || !REGISTRATION_ROUTES.has(ctx.oidc.route)) return;
    const presented = presentedBearer(ctx);
    let administrator = false;
    if (ctx.oidc.route === 'registration' && presented !== undefined) {
      if (policy.initialAccessToken === undefined || !sameSecret(presented, policy.initialAccessToken))
        throw new errors.InvalidToken('invalid initial access token');
      administrator = true;
    }
    if (!administrator && policy.mode === 'token')
      throw new errors.InvalidToken('registration needs an initial access token');
    const authMethod = metadata.token_endpoint_auth_method;
    if (!administrator && authMethod !== 'none')
      throw new errors.InvalidClientMetadata(
        `a confidential client (token_endpoint_auth_method ${String(authMethod)}) needs an initial access token; register a public client with token_endpoint_auth_method none`,
      );
    if (!administrator) {
      for (const member of FETCHED_URLS)
        if (metadata[member] !== undefined)
          throw new errors.InvalidClientMetadata(`${member} needs an initial access token`);
      for (const grantType of (metadata.grant_types as string[] | undefined) ?? [])
        if (!OPEN_GRANT_TYPES.has(grantType))
          throw new errors.InvalidClientMetadata(`grant type ${grantType} needs an initial access token`);
      for (const uri of (metadata.redirect_uris as string[] | undefined) ?? [])
        if (!isLoopbackRedirect(uri) && !policy.redirectUris.includes(uri))
          throw new errors.InvalidRedirectUri(
            `redirect_uris: ${uri} is neither a loopback URI (http://127.0.0.1 or http://[::1], any port) nor allowed for registration`,
          );
      for (const uri of (metadata.post_logout_redirect_uris as string[] | undefined) ?? [])
        if (!isLoopbackRedirect(uri) && !policy.redirectUris.includes(uri))
          throw new errors.InvalidClientMetadata(`post_logout_redirect_uris: ${uri} is not allowed`);
    }
    if (typeof metadata.scope === 'string') {
      const cap = scopeCap(policy, catalog());
      const outside = metadata.scope.split(' ').filter((scope) => scope !== '' && !cap.has(scope));
      if (outside.length > 0)
        throw new errors.InvalidClientMetadata(
          `scope: ${outside.join(' ')} is not offered to registered clients`,
        );
    }
  };
}
