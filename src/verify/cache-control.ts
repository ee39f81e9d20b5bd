export interface FreshnessPolicy {
  /** Used when the response names no usable `max-age`. */
  defaultMs: number;
  /** Upper bound on what a response may ask for. */
  longestMs: number;
}

/**
 * How long a response may be reused, in milliseconds (RFC 9111 §4.2.1): `no-store` and `no-cache`
 * mean not at all, otherwise `max-age` less the `Age` it has already spent in caches.
 */
export function freshnessLifetime(headers: Headers, policy: FreshnessPolicy): number {
  const directives = parseCacheControl(headers.get('cache-control'));
  if (directives.has('no-store') || directives.has('no-cache')) return 0;
  const maxAge = deltaSeconds(directives.get('max-age'));
  if (maxAge === undefined) return policy.defaultMs;
  const age = deltaSeconds(headers.get('age') ?? undefined) ?? 0;
  return Math.min(Math.max(maxAge - age, 0) * 1000, policy.longestMs);
}

function parseCacheControl(header: string | null): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...value] = part.split('=');
    const key = name.trim().toLowerCase();
    if (key !== '' && !directives.has(key))
      directives.set(
        key,
        value
          .join('=')
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
  }
  return directives;
}

function deltaSeconds(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}
