import type { Configuration } from 'oidc-provider';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * oidc-provider's outbound fetch. It refuses to connect to special-use addresses (loopback,
 * private networks: its SSRF guard); Lock lifts that guard for one case only — a `jwksUri` that
 * an administrator registered on a loopback host (the development setup the client schema allows,
 * as for redirect URIs). Every other URL, and any host name that merely resolves to such an
 * address, keeps the guard.
 */
export function jwksUriFetch(registeredJwksUris: readonly string[]): NonNullable<Configuration['fetch']> {
  const loopbackUris = new Set(
    registeredJwksUris
      .map((uri) => new URL(uri))
      .filter((url) => LOOPBACK_HOSTS.has(url.hostname))
      .map((url) => url.href),
  );
  return (input, init) => {
    const href = input instanceof Request ? input.url : String(input);
    if (loopbackUris.has(href) && init && 'dispatcher' in init) {
      const { dispatcher: _, ...rest } = init as RequestInit & { dispatcher?: unknown };
      return globalThis.fetch(input, rest);
    }
    return globalThis.fetch(input, init);
  };
}
