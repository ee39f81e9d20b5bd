import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: what an API tells a client that knows nothing
 * of it (an MCP client, say) — which authorization server issues its tokens and which scopes it
 * understands. The client finds the document through the `resource_metadata` parameter of the
 * API's 401 `WWW-Authenticate` challenge. Plain node only: an API imports this without the server.
 */

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

export interface ProtectedResourceOptions {
  /** The API's resource identifier, exactly as clients send it in `resource` (RFC 8707) and as Lock knows it. */
  resource: string;
  /** Issuers whose tokens the API accepts: Lock's issuer. */
  authorizationServers: readonly string[];
  /** Scopes the API understands (the resource's scopes in Lock). */
  scopesSupported?: readonly string[];
  /** How the API accepts tokens; RFC 9728 §2. Default: the Authorization header only. */
  bearerMethodsSupported?: readonly ('header' | 'body' | 'query')[];
  /** A human-readable name (RFC 9728 §2 `resource_name`). */
  resourceName?: string;
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  scopes_supported?: string[];
  bearer_methods_supported: string[];
  resource_name?: string;
}

/** The metadata document (RFC 9728 §2). */
export function protectedResourceMetadata(options: ProtectedResourceOptions): ProtectedResourceMetadata {
  return {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    ...(options.scopesSupported && { scopes_supported: [...options.scopesSupported] }),
    bearer_methods_supported: [...(options.bearerMethodsSupported ?? ['header'])],
    ...(options.resourceName !== undefined && { resource_name: options.resourceName }),
  };
}

/**
 * Where the document is (RFC 9728 §3.1): the well-known segment goes between the resource's
 * host and its path, so `https://api.example.com/mcp` has it at
 * `https://api.example.com/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.origin}${WELL_KNOWN}${path}`;
}

/** The path the API serves the document at (the pathname of protectedResourceMetadataUrl). */
export function protectedResourceMetadataPath(resource: string): string {
  return new URL(protectedResourceMetadataUrl(resource)).pathname;
}

/**
 * A `WWW-Authenticate` challenge (bearerChallenge's, or any scheme's) with RFC 9728 §5.1's
 * `resource_metadata` parameter added, so that a client can discover how to get a token.
 */
export function withResourceMetadata(challenge: string, resource: string): string {
  const parameter = `resource_metadata="${protectedResourceMetadataUrl(resource).replaceAll(/["\\]/g, '')}"`;
  return /^\S+$/.test(challenge) ? `${challenge} ${parameter}` : `${challenge}, ${parameter}`;
}

/** Serves the document on a Node server: true when the request was for it (answered), false otherwise. */
export function serveProtectedResourceMetadata(
  request: IncomingMessage,
  response: ServerResponse,
  metadata: ProtectedResourceMetadata,
): boolean {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path !== protectedResourceMetadataPath(metadata.resource)) return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return true;
  }
  const body = JSON.stringify(metadata);
  response.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': 'public, max-age=3600',
    // Read by browser-based clients too (RFC 9728 §3: a public document).
    'access-control-allow-origin': '*',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
  return true;
}

/** The slice of a Koa context the middleware uses (no Koa import: verify/ stands alone). */
interface KoaLikeContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

/** Koa middleware serving the document; every other request passes through. */
export function protectedResourceMetadataMiddleware(metadata: ProtectedResourceMetadata) {
  const path = protectedResourceMetadataPath(metadata.resource);
  return async (ctx: KoaLikeContext, next: () => Promise<unknown>) => {
    if (ctx.path !== path || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.status = 200;
    ctx.body = metadata;
  };
}
