import { hkdfSync } from 'node:crypto';
import Provider, { type Configuration, errors, type JWKS } from 'oidc-provider';
import type pg from 'pg';
import type { Catalog } from '../catalog/catalog.ts';
import { ID_TOKEN_TTL } from '../catalog/catalog.ts';
import { resourceRoleClaims } from '../roles/resource-claims.ts';
import { toClientMetadata } from './client-metadata.ts';
import { PostgresAdapter } from './postgres-adapter.ts';

export interface ProviderOptions {
  issuer: string;
  pool: pg.Pool;
  /** Read on every use, so a reloaded catalog is seen at once. */
  catalog: () => Catalog;
  /** Private JWKs, signing keys first: oidc-provider signs with the first key of an algorithm. */
  jwks: JWKS;
  /** The signing key per algorithm, named explicitly for access tokens. */
  signingKid: (alg: string) => string | undefined;
  kek: Buffer;
  trustProxy: boolean;
}

/** Cookie-signing keys derived from the KEK: the same in every process, never stored. */
function cookieKeys(kek: Buffer): string[] {
  return [Buffer.from(hkdfSync('sha256', kek, 'lock', 'oidc cookie signing v1', 32)).toString('base64url')];
}

export function createProvider(options: ProviderOptions): Provider {
  const { catalog } = options;

  class Adapter extends PostgresAdapter {
    readonly #model: string;
    constructor(model: string) {
      super(options.pool, model);
      this.#model = model;
    }
    override async find(id: string) {
      if (this.#model !== 'Client') return super.find(id);
      const client = catalog().clients.get(id);
      return client ? (toClientMetadata(client) as never) : undefined;
    }
  }

  const configuration: Configuration = {
    adapter: Adapter,
    clients: [],
    jwks: options.jwks,
    cookies: { keys: cookieKeys(options.kek) },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      userinfoSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      introspectionSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      authorizationSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // A client that may call exactly one API gets tokens for it without naming it.
        defaultResource: (ctx) => {
          const resources = ctx.oidc.client
            ? catalog().clients.get(ctx.oidc.client.clientId)?.resources
            : undefined;
          return resources?.length === 1 ? resources[0]! : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator, client) => {
          const resource = catalog().resources.get(indicator);
          const allowed = catalog().clients.get(client.clientId)?.resources.includes(indicator);
          if (!resource || !allowed)
            throw new errors.InvalidTarget(`client may not request tokens for ${indicator}`);
          if (ctx.oidc.params?.grant_type === 'client_credentials')
            assertScopesOffered(ctx.oidc.params.scope, resource.id, resource.scopes);
          const kid = options.signingKid(resource.signingAlg);
          return {
            audience: resource.id,
            scope: resource.scopes.join(' '),
            accessTokenTTL: resource.accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: resource.signingAlg, ...(kid !== undefined && { kid }) } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const resourceId = token.resourceServer?.identifier();
      const resource = resourceId === undefined ? undefined : catalog().resources.get(resourceId);
      if (!resource) return undefined;
      if (token.kind === 'ClientCredentials') {
        return { ...resourceRoleClaims(catalog().clients.get(token.clientId!)?.roles ?? [], resource) };
      }
      return undefined;
    },
    ttl: {
      IdToken: ID_TOKEN_TTL,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? 300,
    },
    renderError: (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  return provider;
}

/** A service asking for a scope its API does not offer gets invalid_scope, not a silently smaller token. */
function assertScopesOffered(requested: unknown, resourceId: string, offered: readonly string[]): void {
  if (typeof requested !== 'string' || requested === '') return;
  const missing = requested.split(' ').filter((scope) => scope !== '' && !offered.includes(scope));
  if (missing.length > 0)
    throw new errors.InvalidScope(`${resourceId} does not offer the scope`, missing.join(' '));
}
