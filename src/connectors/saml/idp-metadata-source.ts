import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../../observability/logger.ts';
import type { Queryable } from '../../store/pool.ts';
import { findStoredMetadata, saveStoredMetadata } from '../../store/saml-idp-metadata.ts';
import { observed, UpstreamError, type UpstreamObserver } from '../connector.ts';
import type { SamlConfig } from './config.ts';
import { type IdpDescriptor, readIdpMetadata } from './idp-metadata.ts';

const MAX_METADATA_BYTES = 10 * 1024 * 1024;
// A URL that failed is tried again this soon at most (or at the configured interval, if shorter).
const RETRY_AFTER_FAILURE_MS = 60_000;

export interface MetadataSourceOptions {
  connectorId: string;
  config: SamlConfig;
  db: Queryable;
  log: Logger;
  now: () => Date;
  observeUpstream?: UpstreamObserver | undefined;
}

interface Current {
  descriptor: IdpDescriptor;
  /** When to look at the source again. */
  refreshAt: number;
  /** File sources: the mtime the descriptor was read at. */
  fileVersion?: number;
  /** URL sources: when the copy was fetched (by this process or another). */
  fetchedAt?: number;
}

/**
 * The IdP's metadata, kept current: inline XML is read once; a file again when it changes; a URL
 * every `idpMetadataRefreshSeconds`, with each good copy saved in PostgreSQL and used while the URL
 * is down (also by a process that starts meanwhile). A new signing certificate is picked up without
 * a restart.
 */
export class IdpMetadataSource {
  readonly #options: MetadataSourceOptions;
  #current: Current | undefined;
  #loading: Promise<IdpDescriptor> | undefined;
  #lastForcedRefresh = Number.NEGATIVE_INFINITY;
  #forcedRefresh: Promise<IdpDescriptor | undefined> | undefined;

  constructor(options: MetadataSourceOptions) {
    this.#options = options;
  }

  async descriptor(): Promise<IdpDescriptor> {
    const { config } = this.#options;
    if (config.idpMetadataFile !== undefined) return this.#fromFile(config.idpMetadataFile);
    if (this.#current && this.#now() < this.#current.refreshAt) return this.#current.descriptor;
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /**
   * Reads the source again, for when a signature did not verify (the IdP may have rolled its key
   * over). Anyone can post a badly signed response, so this is bounded: at most once per
   * `idpMetadataMinRefetchSeconds` per connector — across processes too, by the copy saved in
   * PostgreSQL — and concurrent callers share the one read in flight. Resolves with the new
   * descriptor when its signing certificates changed, else undefined.
   */
  refreshSigningCertificates(): Promise<IdpDescriptor | undefined> {
    if (this.#options.config.idpMetadataXml !== undefined) return Promise.resolve(undefined);
    if (this.#forcedRefresh) return this.#forcedRefresh;
    if (this.#now() - this.#lastForcedRefresh < this.#options.config.idpMetadataMinRefetchSeconds * 1000)
      return Promise.resolve(undefined);
    this.#lastForcedRefresh = this.#now();
    this.#forcedRefresh = this.#refreshNow().finally(() => {
      this.#forcedRefresh = undefined;
    });
    return this.#forcedRefresh;
  }

  async #refreshNow(): Promise<IdpDescriptor | undefined> {
    const { config, db, connectorId } = this.#options;
    const before = this.#current?.descriptor.signingCertificates.join();
    if (config.idpMetadataUrl !== undefined) {
      // Another process fetched a newer copy within the interval: take it instead of fetching again.
      const stored = await findStoredMetadata(db, connectorId, config.idpMetadataUrl);
      const fetchedAt = stored?.fetchedAt.getTime() ?? Number.NEGATIVE_INFINITY;
      const minMs = config.idpMetadataMinRefetchSeconds * 1000;
      if (stored && fetchedAt > (this.#current?.fetchedAt ?? 0) && fetchedAt + minMs > this.#now()) {
        const descriptor = await this.#read(stored.xml, config.idpMetadataUrl);
        this.#current = {
          descriptor,
          refreshAt: fetchedAt + config.idpMetadataRefreshSeconds * 1000,
          fetchedAt,
        };
        return descriptor.signingCertificates.join() === before ? undefined : descriptor;
      }
    }
    if (this.#current) this.#current.refreshAt = 0;
    const after = await this.descriptor();
    return after.signingCertificates.join() === before ? undefined : after;
  }

  async #load(): Promise<IdpDescriptor> {
    const { config } = this.#options;
    if (config.idpMetadataXml !== undefined) {
      const descriptor = await this.#read(config.idpMetadataXml, 'idpMetadataXml');
      this.#current = { descriptor, refreshAt: Number.POSITIVE_INFINITY };
      return descriptor;
    }
    return this.#fromUrl(config.idpMetadataUrl!);
  }

  async #fromUrl(url: string): Promise<IdpDescriptor> {
    const { db, connectorId, config, log } = this.#options;
    const refreshMs = config.idpMetadataRefreshSeconds * 1000;
    if (new URL(url).protocol !== 'https:')
      log.warn(
        { connector: connectorId, url },
        'SAML connector reads its IdP metadata over plain http (allowInsecureMetadataUrl): anyone on the path can replace the IdP signing certificate — development only',
      );
    const stored = this.#current ? undefined : await findStoredMetadata(db, connectorId, url);
    // Another process fetched it recently: use that copy.
    if (stored && stored.fetchedAt.getTime() + refreshMs > this.#now()) {
      const descriptor = await this.#read(stored.xml, url);
      this.#current = {
        descriptor,
        refreshAt: stored.fetchedAt.getTime() + refreshMs,
        fetchedAt: stored.fetchedAt.getTime(),
      };
      return descriptor;
    }
    try {
      const xml = await observed(this.#options.observeUpstream, 'metadata', () =>
        fetchMetadata(url, config.idpMetadataTimeoutSeconds * 1000),
      );
      const descriptor = await this.#read(xml, url);
      await saveStoredMetadata(db, connectorId, url, { xml, fetchedAt: new Date(this.#now()) });
      this.#current = { descriptor, refreshAt: this.#now() + refreshMs, fetchedAt: this.#now() };
      return descriptor;
    } catch (error) {
      const fallback = this.#current?.descriptor ?? (stored && (await this.#read(stored.xml, url)));
      const reason = (error as Error).message;
      if (!fallback)
        throw new UpstreamError(
          `SAML connector ${connectorId}: IdP metadata from ${url} unavailable and no earlier copy saved: ${reason}`,
        );
      log.warn(
        { connector: connectorId, url, err: { message: reason } },
        'IdP metadata refresh failed: using the last good copy',
      );
      this.#current = {
        descriptor: fallback,
        refreshAt: this.#now() + Math.min(refreshMs, RETRY_AFTER_FAILURE_MS),
      };
      return fallback;
    }
  }

  async #fromFile(path: string): Promise<IdpDescriptor> {
    let version: number;
    try {
      version = (await stat(path)).mtimeMs;
    } catch (error) {
      if (this.#current) return this.#current.descriptor;
      throw new UpstreamError(
        `SAML connector ${this.#options.connectorId}: cannot read idpMetadataFile ${path}: ${(error as Error).message}`,
      );
    }
    if (this.#current?.fileVersion === version) return this.#current.descriptor;
    const descriptor = await this.#read(await readFile(path, 'utf8'), path);
    this.#current = { descriptor, refreshAt: Number.POSITIVE_INFINITY, fileVersion: version };
    return descriptor;
  }

  async #read(xml: string, source: string): Promise<IdpDescriptor> {
    try {
      return await readIdpMetadata(xml, this.#options.config.idpEntityId, new Date(this.#now()));
    } catch (error) {
      throw new UpstreamError(
        `SAML connector ${this.#options.connectorId}: IdP metadata from ${source}: ${(error as Error).message}`,
      );
    }
  }

  #now(): number {
    return this.#options.now().getTime();
  }
}

async function fetchMetadata(url: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8' },
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_METADATA_BYTES) throw new Error(`larger than ${MAX_METADATA_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
