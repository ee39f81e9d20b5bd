import { jwksUnavailable } from './errors.ts';
import { fetchJson } from './fetch-json.ts';

export interface DiscoveryOptions {
  issuer: string;
  jwksUri: string | undefined;
  fetch: typeof fetch;
  requestTimeout: number;
}

/**
 * Where the issuer publishes its keys: the configured `jwksUri`, or discovery's `jwks_uri`, read
 * once. A failed discovery is not remembered, so the next verification asks again.
 */
export function jwksUriSource(options: DiscoveryOptions): () => Promise<string> {
  const configured = options.jwksUri;
  if (configured !== undefined) return () => Promise.resolve(configured);
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= discoverJwksUri(options).catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

async function discoverJwksUri(options: DiscoveryOptions): Promise<string> {
  const url = `${options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let body: unknown;
  try {
    ({ body } = await fetchJson(options.fetch, url, options.requestTimeout));
  } catch (error) {
    throw jwksUnavailable(
      'discovery_failed',
      `discovery for ${options.issuer}: ${(error as Error).message}`,
      error,
    );
  }
  const metadata = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  // OpenID Connect Discovery §4.3: metadata naming another issuer must not be used.
  if (metadata.issuer !== options.issuer)
    throw jwksUnavailable(
      'discovery_failed',
      `discovery at ${url} names issuer ${JSON.stringify(metadata.issuer)}, not ${JSON.stringify(options.issuer)}`,
    );
  const jwksUri = metadata.jwks_uri;
  if (typeof jwksUri !== 'string' || !URL.canParse(jwksUri))
    throw jwksUnavailable('discovery_failed', `discovery at ${url} has no jwks_uri URL`);
  return jwksUri;
}
