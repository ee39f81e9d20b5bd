import type { JSONWebKeySet } from 'jose';
import type Koa from 'koa';
import Provider, {
  type Configuration,
  errors,
  type JWKS,
  type KoaContextWithOIDC,
  type ResourceServer,
} from 'oidc-provider';
import type pg from 'pg';
import type { AuditEvent } from '../audit/audit.ts';
import type { Catalog, Client, Resource } from '../catalog/catalog.ts';
import { TOKEN_LIFETIMES } from '../config/defaults.ts';
import type { ConnectorInfo } from '../connectors/connector.ts';
import { TOKEN_EXCHANGE } from '../model/client.ts';
import { resourceTokenClaims } from '../roles/resource-claims.ts';
import type { AccountCache } from '../store/account-cache.ts';
import { recordSessionActivity } from '../store/lock-sessions.ts';
import { findLockAccount, isRefreshGrant, type LockAccount } from './accounts.ts';
import type { LogoutNotice } from './backchannel-logout.ts';
import { assertClientAssertionClaims } from './client-assertion-policy.ts';
import { toClientMetadata } from './client-metadata.ts';
import {
  announceInterval,
  type DevicePages,
  deviceFlowFeature,
  devicePagesWithoutSession,
  devicePolling,
  type UserCodeAttempts,
  userCodeBruteForce,
} from './device-flow.ts';
import { autoConsentForFirstParty } from './first-party-consent.ts';
import { jwksUriFetch } from './jwks-uri-fetch.ts';
import { PostgresAdapter, takeAccountReadAhead } from './postgres-adapter.ts';
import {
  BACKCHANNEL_LOGOUT,
  CLAIMS_NOT_OFFERED,
  CLIENT_AUTH_METHODS,
  DISCOVERY_EXTRAS,
  dpopFeature,
  ENABLED_JWA,
  FEATURES_OFF,
  PUSHED_AUTHORIZATION_REQUESTS,
} from './protocol-surface.ts';
import {
  allowedResources,
  enforceRegistrationPolicy,
  isRegisteredClient,
  type RegistrationPolicy,
} from './registration-policy.ts';
import { type SessionLimits, sessionTtl, signInPolicy } from './session-policy.ts';
import { claimsOfExchangedToken, exchangeableAudiences, registerTokenExchange } from './token-exchange.ts';
import { recordTokenOrigin } from './token-origins.ts';

export interface ProviderOptions {
  issuer: string;
  pool: pg.Pool;
  /** The accounts redemptions read, kept across the providers a catalog change builds. */
  accounts: AccountCache;
  /** Read on every use, so a reloaded catalog is seen at once. */
  catalog: () => Catalog;
  /** The catalog's clients when this provider is built (a catalog change builds a new provider). */
  clients: readonly Client[];
  connectors: () => ReadonlyMap<string, ConnectorInfo>;
  /** The signing keys (signing-key.ts), current ones first: oidc-provider signs with the first key of an algorithm. */
  jwks: JWKS;
  /** The same keys' public members, to verify Lock's own tokens (token exchange). */
  publicJwks: JSONWebKeySet;
  /** The signing key per algorithm, named explicitly for access tokens. */
  signingKid: (alg: string) => string | undefined;
  /** Signs oidc-provider's cookies: derived from the KEK (app.ts), so every process checks every other's. */
  cookieKey: Buffer;
  /** Derives DPoP nonces (protocol-surface.ts, DPOP): from the KEK, so every process accepts every other's. */
  dpopNonceKey: Buffer;
  trustProxy: boolean;
  /** The authorization endpoint also by POST; oidc-provider then needs SameSite=None session cookies. */
  authorizationPost?: boolean;
  sessionLimits: SessionLimits;
  /** Middleware run before oidc-provider's own on every request it serves. */
  middleware: Koa.Middleware[];
  /** Told of every successful token response (for metrics). */
  onTokenIssued?: (grantType: string, resource: string) => void;
  /** Told of what the audit log records: logouts, revocations, reuse detection. */
  onAuditEvent?: (event: AuditEvent) => void;
  /** Told of oidc-provider's own server errors (answered 500), which it would otherwise only debug-log. */
  onServerError?: (error: unknown) => void;
  /** A client to send a logout token (back-channel logout at end_session); delivery is the caller's. */
  onBackchannelLogout?: (notice: LogoutNotice) => void;
  /** Claims connectors map from upstream attributes (LDAP `userSearch.claims`), granted with `profile`. */
  customClaims?: readonly string[];
  /** The pages oidc-provider shows: Lock's own, rendered by the layer above (src/interactions/provider-pages.ts). */
  pages: ProviderPages;
  /** Counts user codes typed on the device page (device-flow.ts); none: not counted (tests of other things). */
  userCodeAttempts?: UserCodeAttempts;
  /** Dynamic client registration (RFC 7591, docs/mcp.md); none: registration is off. */
  registration?: RegistrationPolicy;
}

/**
 * What oidc-provider's page hooks (logoutSource, postLogoutSuccessSource, renderError) answer
 * with. Handed in by the composition root, so that this layer renders nothing itself.
 */
export interface ProviderPages extends DevicePages {
  /** "Sign out?": a form that POSTs `xsrf` (and `logout=yes` to sign out) to `formAction`. */
  logout(
    ctx: KoaContextWithOIDC,
    form: { formAction: string; xsrf: string; clientName?: string; postLogoutRedirectUri?: string },
  ): void;
  loggedOut(ctx: KoaContextWithOIDC, page: { clientName?: string }): void;
  /** The error page for a protocol error oidc-provider cannot send back to the client; it has set the status. */
  protocolError(ctx: KoaContextWithOIDC, problem: ProtocolProblem): void;
}

/** What went wrong in a request oidc-provider refused in the browser (its renderError), for the error page. */
export interface ProtocolProblem {
  /** The OAuth error code (`invalid_redirect_uri`, …), and oidc-provider's description: developer text. */
  error: string;
  description?: string;
  /** oidc-provider's error class (`SessionNotFound`, …). */
  name?: string;
  /** What the request named, as sent (shown to developers only). */
  clientId?: string;
  redirectUri?: string;
  /** The client's home, when Lock's catalog declares the client (an administrator vouches for it). */
  back?: { href: string; name: string };
}

/** Lifetimes in seconds: config/defaults.ts (docs/tokens.md lists them). */
export const TTL = TOKEN_LIFETIMES;

/** Scope strings whose service claims are kept per client and resource. */
const SCOPE_VARIANTS_CACHED = 64;

export function createProvider(options: ProviderOptions): Provider {
  const { catalog } = options;
  // Built once per resource for this provider (a catalog or key change builds a new provider).
  const resourceServers = new WeakMap<Resource, ResourceServer>();
  const resourceServerInfo = (resource: Resource): ResourceServer => {
    let info = resourceServers.get(resource);
    if (!info) {
      const kid = options.signingKid(resource.signingAlg);
      info = Object.freeze({
        audience: resource.id,
        scope: resource.scopes.join(' '),
        accessTokenTTL: resource.accessTokenTTL,
        accessTokenFormat: resource.accessTokenFormat,
        ...(resource.accessTokenFormat === 'jwt' && {
          jwt: { sign: { alg: resource.signingAlg, ...(kid !== undefined && { kid }) } },
        }),
      });
      resourceServers.set(resource, info);
    }
    return info;
  };

  // A service's claims follow from the catalog alone (its roles, the resource, the scope asked
  // for): computed once per combination for this provider, the token path's steady state. Found
  // by resource, client and scope as given (no key is built per token); only an authenticated
  // client reaches here, and its scope variants are bounded: it cannot grow the cache at will.
  const serviceClaimsCache = new WeakMap<
    Resource,
    Map<string, Map<string, Readonly<Record<string, unknown>>>>
  >();
  const serviceClaims = (resource: Resource, clientId: string, requestedScope: string) => {
    let byClient = serviceClaimsCache.get(resource);
    if (!byClient) {
      byClient = new Map();
      serviceClaimsCache.set(resource, byClient);
    }
    let byScope = byClient.get(clientId);
    if (!byScope) {
      byScope = new Map();
      byClient.set(clientId, byScope);
    }
    let claims = byScope.get(requestedScope);
    if (!claims) {
      const scope = [...new Set(requestedScope.split(' ').filter(Boolean))].sort().join(' ');
      const roles = catalog().clients.get(clientId)?.roles ?? [];
      claims = Object.freeze(resourceTokenClaims(resource, { sub: clientId, clientId, roles, scope }));
      if (byScope.size < SCOPE_VARIANTS_CACHED) byScope.set(requestedScope, claims);
    }
    return claims;
  };

  const registration = options.registration;
  class Adapter extends PostgresAdapter {
    readonly #model: string;
    constructor(model: string) {
      super(options.pool, model, options.accounts);
      this.#model = model;
    }
    // A registered client lives until it goes unused this long (refreshed at each token, below).
    override upsert(id: string, payload: Parameters<PostgresAdapter['upsert']>[1], expiresIn: number) {
      const ttl = this.#model === 'Client' && registration ? registration.unusedTtlSeconds : expiresIn;
      return super.upsert(id, payload, ttl);
    }
  }

  const configuration: Configuration = {
    adapter: Adapter,
    // Static clients: oidc-provider builds each once, so the token path does no client work per
    // request. The provider is rebuilt whenever the catalog changes (see runtime.ts).
    clients: options.clients.map(toClientMetadata),
    jwks: options.jwks,
    cookies: {
      keys: [options.cookieKey.toString('base64url')],
      ...(options.authorizationPost && { long: { sameSite: 'none' } }),
    },
    enableHttpPostMethods: options.authorizationPost === true,
    // A code's or refresh token's redemption read the account along with the token (postgres-adapter.ts).
    findAccount: (ctx, sub) =>
      findLockAccount(
        options.pool,
        options.accounts,
        options.connectors(),
        sub,
        isRefreshGrant(ctx),
        takeAccountReadAhead(sub),
      ),
    claims: {
      // amr: how the user signed in (`pwd`, `otp`), in every ID token as in access tokens.
      openid: ['sub', 'roles', 'idp', 'amr'],
      profile: [
        'name',
        'preferred_username',
        ...(options.customClaims ?? []).filter((name) => name !== 'email_verified'),
      ],
      // email_verified only where a connector vouches for its emails (upstream OIDC with email_verified).
      email: ['email', ...(options.customClaims ?? []).filter((name) => name === 'email_verified')],
      groups: ['groups'],
      ...CLAIMS_NOT_OFFERED,
    },
    // ID tokens carry the profile claims the scopes grant, not only userinfo.
    conformIdTokenClaims: false,
    extraParams: ['connector'],
    pkce: {
      // Public clients must prove possession with S256 (the only method offered); confidential may.
      // Registered clients (docs/mcp.md) always, whatever their authentication.
      required: (_ctx, client) =>
        client.tokenEndpointAuthMethod === 'none' || isRegisteredClient(catalog(), client.clientId),
    },
    // CORS only for the endpoints oidc-provider opens to it, and only from the client's own origins.
    clientBasedCORS: (_ctx, origin, client) =>
      catalog().clients.get(client.clientId)?.allowedOrigins.includes(origin) ?? false,
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    loadExistingGrant: autoConsentForFirstParty(catalog, options.pool),
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: signInPolicy(options.sessionLimits, { catalog, connectors: options.connectors }),
    },
    // What discovery advertises follows from these three (protocol-surface.ts).
    clientAuthMethods: CLIENT_AUTH_METHODS,
    discovery: DISCOVERY_EXTRAS,
    enabledJWA: ENABLED_JWA,
    // private_key_jwt: short-lived assertions; a client's jwksUri fetched (client-assertion-policy.ts, jwks-uri-fetch.ts).
    assertJwtClientAuthClaimsAndHeader: assertClientAssertionClaims,
    fetch: jwksUriFetch(options.clients.flatMap((client) => (client.jwksUri ? [client.jwksUri] : []))),
    responseTypes: ['code'],
    // The registration policy sees each registration's metadata (registration-policy.ts).
    ...(registration && {
      extraClientMetadata: {
        properties: ['software_id'],
        validator: (ctx, key, _value, metadata) => {
          if (key === 'software_id')
            enforceRegistrationPolicy(registration, catalog)(ctx, metadata as Record<string, unknown>);
        },
      },
    }),
    features: {
      ...FEATURES_OFF,
      ...(registration && {
        registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: true },
      }),
      clientCredentials: { enabled: true },
      // Lock's keys sign through node:crypto (signing-key.ts). The version is acknowledged: an
      // oidc-provider that changes this experimental interface refuses to start instead.
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => mayIntrospect(catalog(), client.clientId, token),
      },
      // RFC 9701: `Accept: application/token-introspection+jwt` gets the answer as a signed JWT.
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client revokes only the tokens issued to it.
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId !== client.clientId)
            throw new errors.UnauthorizedClient('the token was issued to another client');
          return true;
        },
      },
      userinfo: { enabled: true },
      deviceFlow: deviceFlowFeature({
        pages: options.pages,
        ...(options.onAuditEvent && { audit: options.onAuditEvent }),
      }),
      backchannelLogout: BACKCHANNEL_LOGOUT,
      dPoP: dpopFeature(options.dpopNonceKey),
      pushedAuthorizationRequests: PUSHED_AUTHORIZATION_REQUESTS,
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          const redirect = ctx.oidc.params?.post_logout_redirect_uri;
          options.pages.logout(ctx, {
            formAction: `${ctx.oidc.urlFor('end_session_confirm')}`,
            xsrf: /name="xsrf" value="([^"]+)"/.exec(form)?.[1] ?? '',
            ...(ctx.oidc.client?.clientName !== undefined && { clientName: ctx.oidc.client.clientName }),
            ...(typeof redirect === 'string' && { postLogoutRedirectUri: redirect }),
          });
        },
        postLogoutSuccessSource: (ctx) => {
          options.pages.loggedOut(ctx, {
            ...(ctx.oidc.client?.clientName !== undefined && { clientName: ctx.oidc.client.clientName }),
          });
        },
      },
      resourceIndicators: {
        enabled: true,
        // A service that may call exactly one API gets tokens for it without naming it. User flows
        // name their API with `resource`, or get an opaque token for userinfo.
        defaultResource: (ctx) => {
          if (ctx.oidc.params?.grant_type !== 'client_credentials') return undefined;
          const resources = ctx.oidc.client
            ? catalog().clients.get(ctx.oidc.client.clientId)?.resources
            : undefined;
          return resources?.length === 1 ? resources[0]! : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator, client) => {
          const resource = catalog().resources.get(indicator);
          const allowed = allowedResources(catalog(), client.clientId, registration).includes(indicator);
          if (!resource || !allowed)
            throw new errors.InvalidTarget(`client may not request tokens for ${indicator}`);
          if (ctx.oidc.params?.grant_type === 'client_credentials')
            assertScopesOffered(ctx.oidc.params.scope, resource.id, resource.scopes);
          // Tokens are minted at the token endpoint only: there a resource requiring DPoP needs a
          // proof (oidc-provider has verified it before asking here) and a grant that binds to it.
          if (resource.requireDpop && ctx.oidc.route === 'token' && !dpopBound(ctx))
            throw new errors.InvalidRequest(
              `${indicator} accepts only DPoP-bound access tokens: send a DPoP proof (RFC 9449)`,
            );
          return resourceServerInfo(resource);
        },
      },
    },
    formats: {
      customizers: {
        // A user's JWT access token is not stored; where it comes from is, for token exchange —
        // when a gateway may exchange tokens for its audience at all.
        jwt: async (_ctx, token) => {
          if (token.kind !== 'AccessToken' || !token.grantId || !token.accountId) return;
          const audiences = exchangeableAudiences(catalog());
          const server = token.resourceServer;
          if (!server || !(audiences.has(server.identifier()) || audiences.has(server.audience ?? '')))
            return;
          await recordTokenOrigin(
            options.pool,
            token.jti,
            { grantId: token.grantId, accountId: token.accountId },
            token.remainingTTL,
          );
        },
      },
    },
    extraTokenClaims: async (ctx, token) => {
      const exchanged = claimsOfExchangedToken(token);
      if (exchanged) return exchanged;
      const resourceId = token.resourceServer?.identifier();
      const resource = resourceId === undefined ? undefined : catalog().resources.get(resourceId);
      if (!resource) return undefined;
      const scope = token.scope ?? '';
      if (token.kind === 'ClientCredentials') return serviceClaims(resource, token.clientId!, scope);
      // The grant already looked the account up (findAccount): reuse it rather than query again.
      const loaded = ctx.oidc.account as LockAccount | undefined;
      const account =
        loaded?.accountId === token.accountId
          ? loaded
          : await findLockAccount(
              options.pool,
              options.accounts,
              options.connectors(),
              token.accountId!,
              false,
            );
      if (!account) throw new errors.InvalidGrant('the account can no longer sign in');
      const idp = account.identity.connector;
      return {
        ...resourceTokenClaims(resource, {
          sub: account.accountId,
          clientId: token.clientId!,
          roles: account.roles,
          scope,
          idp,
        }),
        idp,
        ...authenticationClaims(ctx),
      };
    },
    ttl: {
      ...TTL,
      // RFC 7592 read access lasts as long as an unused registration (docs/mcp.md).
      ...(registration && { RegistrationAccessToken: registration.unusedTtlSeconds }),
      Session: sessionTtl(options.sessionLimits),
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL.AccessToken,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? TTL.ClientCredentials,
    },
    renderError: (ctx, out, error) => {
      const params = ctx.oidc?.params;
      const clientId = typeof params?.client_id === 'string' ? params.client_id : undefined;
      const redirectUri = typeof params?.redirect_uri === 'string' ? params.redirect_uri : undefined;
      const back = clientId === undefined ? undefined : clientHome(catalog().clients.get(clientId));
      options.pages.protocolError(ctx, {
        error: String(out.error),
        ...(out.error_description !== undefined && { description: out.error_description }),
        ...(error instanceof Error && { name: error.name }),
        ...(clientId !== undefined && { clientId }),
        ...(redirectUri !== undefined && { redirectUri }),
        ...(back !== undefined && { back }),
      });
    },
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  provider.maxIpsCount = 1; // as Lock's own app (src/http/app.ts): one trusted proxy hop
  // Registered only while some client may exchange: every grant type's parameters are parsed on
  // every token request, so an unused grant would cost each one.
  if (options.clients.some((client) => client.grantTypes.includes(TOKEN_EXCHANGE)))
    registerTokenExchange(provider, {
      catalog,
      publicJwks: options.publicJwks,
      resourceServerInfo,
      db: options.pool,
      findAccount: (sub) => findLockAccount(options.pool, options.accounts, options.connectors(), sub, false),
    });
  // end_session decides whom to tell (every client of the session, or the one signing out); Lock's
  // queue delivers (retried, bounded, audited), so the person's sign-out never waits for a client.
  const onBackchannelLogout = options.onBackchannelLogout;
  provider.Client.prototype.backchannelLogout = async function (
    this: { clientId: string },
    sub: string,
    sid?: string,
  ) {
    onBackchannelLogout?.({
      clientId: this.clientId,
      sub,
      ...(sid !== undefined && { sid }),
      trigger: 'end_session',
    });
  };
  for (const middleware of options.middleware) provider.use(middleware as never);
  provider.use(devicePagesWithoutSession() as never);
  if (options.userCodeAttempts)
    provider.use(userCodeBruteForce(options.userCodeAttempts, options.pages) as never);
  provider.use(devicePolling(options.pool, provider) as never);
  announceInterval(provider);
  provider.on('server_error', (ctx, error) => {
    ctx.state.serverError = error; // read by requestEdge on the way out (a database outage → 503)
    options.onServerError?.(error);
  });
  // oidc-provider's Session keeps no browser or address: /account lists sessions with what was
  // seen at their last authorization (docs/account.md). Not awaited: the redirect never waits for it.
  provider.on('authorization.success', (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.uid || !session.accountId) return;
    recordSessionActivity(options.pool, {
      sessionUid: session.uid,
      accountId: session.accountId,
      userAgent: ctx.get('user-agent'),
      ip: ctx.ip,
      at: new Date(),
    }).catch((error) => options.onServerError?.(error));
  });
  if (options.onAuditEvent) {
    const audit = options.onAuditEvent;
    const about = (ctx: KoaContextWithOIDC) => ({
      ...(ctx.oidc.client && { clientId: ctx.oidc.client.clientId }),
      ip: ctx.ip,
      userAgent: ctx.get('user-agent'),
    });
    provider.on('end_session.success', (ctx) => {
      const actor = ctx.oidc.entities.Session?.accountId;
      audit({ type: 'logout', outcome: 'success', ...(actor && { actor }), ...about(ctx) });
    });
    // Delegation is worth a record: which gateway acted for whom, towards which API.
    provider.on('grant.success', (ctx) => {
      if (ctx.oidc.params?.grant_type !== TOKEN_EXCHANGE) return;
      const token = ctx.oidc.entities.AccessToken;
      audit({
        type: 'token.exchanged',
        outcome: 'success',
        ...(ctx.oidc.client && { actor: ctx.oidc.client.clientId }),
        ...(token?.accountId && { subject: token.accountId }),
        details: { audience: token?.aud, scope: token?.scope },
        ...about(ctx),
      });
    });
    provider.on('grant.revoked', (ctx, grantId) => {
      const grantType = ctx.oidc.params?.grant_type;
      const type =
        grantType === 'refresh_token'
          ? 'token.refresh_reuse_detected'
          : grantType === 'authorization_code'
            ? 'token.code_reuse_detected'
            : ctx.oidc.route === 'revocation'
              ? 'token.revoked'
              : 'grant.revoked';
      audit({
        type,
        outcome: type.endsWith('detected') ? 'failure' : 'success',
        details: { grantId },
        ...about(ctx),
      });
    });
  }
  if (registration) {
    // A registered client in use keeps its registration: each token pushes its expiry back.
    provider.on('grant.success', (ctx) => {
      const client = ctx.oidc.client;
      if (!client || !isRegisteredClient(catalog(), client.clientId)) return;
      new Adapter('Client').upsert(client.clientId, client.metadata(), 0).catch(options.onServerError);
    });
  }
  if (options.onTokenIssued) {
    const onTokenIssued = options.onTokenIssued;
    provider.on('grant.success', (ctx) => {
      const { grant_type: grantType, resource } = ctx.oidc.params ?? {};
      onTokenIssued(String(grantType ?? 'unknown'), typeof resource === 'string' ? resource : 'default');
    });
  }
  return provider;
}

/** RFC 9068 §2.2.1: how and when the user authenticated, from the code or refresh token at hand. */
function authenticationClaims(ctx: KoaContextWithOIDC): Record<string, unknown> {
  const source =
    ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.DeviceCode ?? ctx.oidc.entities.RefreshToken;
  if (!source) return {};
  return {
    ...(source.authTime !== undefined && { auth_time: source.authTime }),
    ...(source.amr !== undefined && { amr: source.amr }),
    ...(source.acr !== undefined && { acr: source.acr }),
  };
}

/** A service asking for a scope its API does not offer gets invalid_scope, not a silently smaller token. */
function assertScopesOffered(requested: unknown, resourceId: string, offered: readonly string[]): void {
  if (typeof requested !== 'string' || requested === '') return;
  const missing = requested.split(' ').filter((scope) => scope !== '' && !offered.includes(scope));
  if (missing.length > 0)
    throw new errors.InvalidScope(`${resourceId} does not offer the scope`, missing.join(' '));
}

/**
 * Who may read what introspection says: the client the token was issued to, and a client that
 * fronts the token's API (`introspects`, e.g. a gateway swapping opaque tokens for JWTs).
 */
function mayIntrospect(
  catalog: Catalog,
  callerId: string,
  token: { clientId?: string; aud?: string | string[] },
) {
  if (token.clientId === callerId) return true;
  const introspects = catalog.clients.get(callerId)?.introspects ?? [];
  const audiences = typeof token.aud === 'string' ? [token.aud] : (token.aud ?? []);
  return audiences.some((audience) => introspects.includes(audience));
}

/** Grants oidc-provider binds to a DPoP proof's key (token exchange, Lock's own grant, does not). */
const DPOP_BINDING_GRANTS = new Set([
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:device_code',
]);

/** The token request carries a DPoP proof (already verified by oidc-provider) for a grant that binds to it. */
function dpopBound(ctx: KoaContextWithOIDC): boolean {
  return ctx.get('DPoP') !== '' && DPOP_BINDING_GRANTS.has(String(ctx.oidc.params?.grant_type));
}

/**
 * Where the error page may send a person back to: the origin of the first registered redirect URI
 * of a client the catalog declares (never the redirect URI the request sent, which may be anyone's).
 */
function clientHome(
  client: { name?: string | undefined; clientId: string; redirectUris: readonly string[] } | undefined,
) {
  const first = client?.redirectUris[0];
  if (!client || first === undefined) return undefined;
  const url = URL.parse(first);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return undefined;
  return { href: `${url.origin}/`, name: client.name ?? client.clientId };
}
