import { createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';
import { type FreshnessPolicy, freshnessLifetime } from './cache-control.ts';
import { jwksUnavailable } from './errors.ts';
import { fetchJson } from './fetch-json.ts';

export type KeySet = ReturnType<typeof createLocalJWKSet>;

export interface JwksCacheOptions {
  jwksUri: () => Promise<string>;
  fetch: typeof fetch;
  requestTimeout: number;
  unknownKidCooldown: number;
  /** How long past freshness the last good keys serve while a refetch fails. */
  maxStaleness: number;
  freshness: FreshnessPolicy;
  now?: () => number;
}

interface LoadedKeys {
  keySet: KeySet;
  uri: string;
  freshUntil: number;
}

/** While the issuer cannot be reached, stale keys serve and a refetch is tried this often. */
const RETRY_WHILE_STALE_MS = 5_000;

export interface CurrentKeys {
  keySet: KeySet;
  uri: string;
  /** True when these keys were fetched for this very call, so refetching on an unknown kid is pointless. */
  justFetched: boolean;
}

/**
 * The issuer's JWKS, reused for as long as its response's `Cache-Control` allows. Concurrent
 * callers share one request; an unknown `kid` may force a refetch at most once per cooldown, so
 * tokens with made-up kids cannot turn the API into a load generator against the issuer.
 */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  readonly #now: () => number;
  #loaded: LoadedKeys | undefined;
  #inFlight: Promise<LoadedKeys> | undefined;
  #lastUnknownKidRefetch = Number.NEGATIVE_INFINITY;
  /** After a failed refresh of stale keys: no new attempt before this time. */
  #retryStaleAt = Number.NEGATIVE_INFINITY;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The keys to verify with: the cached set while fresh, else a refetch. When the refetch fails,
   * the last good set keeps serving for up to `maxStaleness` past its freshness (tokens are
   * validated offline: a Lock outage must not take the APIs down with it), and the issuer is asked
   * again at most every few seconds rather than on every request.
   */
  async current(): Promise<CurrentKeys> {
    const loaded = this.#loaded;
    const now = this.#now();
    if (loaded !== undefined && now < loaded.freshUntil) return { ...loaded, justFetched: false };
    const usableStale = loaded !== undefined && now < loaded.freshUntil + this.#options.maxStaleness;
    if (usableStale && now < this.#retryStaleAt) return { ...loaded, justFetched: false };
    try {
      return { ...(await this.#load()), justFetched: true };
    } catch (error) {
      if (!usableStale) throw error;
      this.#retryStaleAt = now + RETRY_WHILE_STALE_MS;
      return { ...loaded, justFetched: false };
    }
  }

  /** Fresh keys after a token named a kid the cached set lacks, or undefined while cooling down. */
  async refetchForUnknownKid(): Promise<LoadedKeys | undefined> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    const now = this.#now();
    if (now - this.#lastUnknownKidRefetch < this.#options.unknownKidCooldown) return undefined;
    this.#lastUnknownKidRefetch = now;
    return this.#load();
  }

  #load(): Promise<LoadedKeys> {
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #fetch(): Promise<LoadedKeys> {
    const uri = await this.#options.jwksUri();
    let response: Awaited<ReturnType<typeof fetchJson>>;
    try {
      response = await fetchJson(this.#options.fetch, uri, this.#options.requestTimeout);
    } catch (error) {
      throw jwksUnavailable('jwks_fetch_failed', `JWKS: ${(error as Error).message}`, error);
    }
    let keySet: KeySet;
    try {
      keySet = createLocalJWKSet(publicSigningKeys(response.body));
    } catch (error) {
      throw jwksUnavailable('jwks_fetch_failed', `JWKS at ${uri} is not a JSON Web Key Set`, error);
    }
    const loaded = {
      keySet,
      uri,
      freshUntil: this.#now() + freshnessLifetime(response.headers, this.#options.freshness),
    };
    this.#loaded = loaded;
    return loaded;
  }
}

/** Only asymmetric public keys: a symmetric or private member in a JWKS is never a verification key. */
function publicSigningKeys(body: unknown): JSONWebKeySet {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new TypeError('no "keys" array');
  const usable = keys.filter(
    (key: JWK | null) =>
      typeof key === 'object' &&
      key !== null &&
      ['RSA', 'EC', 'OKP'].includes(key.kty ?? '') &&
      key.d === undefined,
  );
  return { keys: usable };
}
