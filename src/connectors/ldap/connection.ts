import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { Client, type Entry, type Filter, ResultCodeError } from 'ldapts';

export interface ConnectionSettings {
  url: string;
  startTLS: boolean;
  /** Options for the TLS handshake (CA, verification); undefined for plain ldap:// without StartTLS. */
  tls: ConnectionOptions | undefined;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/** How far an attempt to open a connection got: names the step that failed. */
export interface ConnectionProgress {
  connected: boolean;
  tlsEstablished: boolean;
}

export interface SearchRequest {
  base: string;
  scope: 'base' | 'one' | 'sub';
  filter: Filter;
  attributes: string[];
  binaryAttributes?: string[];
  pageSize?: number;
  sizeLimit?: number;
}

/**
 * One connection to one directory server. ldapts reconnects by itself when a socket closes, as
 * plain text and unauthenticated even after StartTLS; here a closed connection stays closed (the
 * pool discards it), so a password never goes out on a connection Lock did not secure.
 */
export class LdapConnection {
  readonly url: string;
  readonly progress: ConnectionProgress = { connected: false, tlsEstablished: false };
  /** The DN this connection is bound as, if its last bind succeeded. */
  boundAs: string | undefined;
  readonly #client: Client;
  readonly #sockets: Socket[] = [];
  readonly #settings: ConnectionSettings;

  constructor(settings: ConnectionSettings) {
    this.#settings = settings;
    this.url = settings.url;
    const secure = /^ldaps:/i.test(settings.url);
    let opened = { plain: false, secure: false };
    this.#client = new Client({
      url: settings.url,
      timeout: settings.timeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      strictDN: false,
      ...(secure && { tlsOptions: settings.tls }),
      createConnection: ((port: number, host: string) => {
        if (opened.plain) throw new Error('connection closed');
        opened = { ...opened, plain: true };
        return this.#track(netConnect(port, host), false);
      }) as never,
      createSecureConnection: ((...args: unknown[]) => {
        if (opened.secure) throw new Error('connection closed');
        opened = { ...opened, secure: true };
        return this.#track(secureConnect(args), true);
      }) as never,
    });
  }

  #track(socket: Socket, secure: boolean): Socket {
    this.#sockets.push(socket);
    socket.unref(); // an idle pooled connection never keeps the process alive
    if (!(secure && this.progress.connected)) socket.once('connect', () => (this.progress.connected = true));
    if (secure) socket.once('secureConnect', () => (this.progress.tlsEstablished = true));
    return socket;
  }

  /** A connection that was open and closed stays closed (the factories above refuse a second socket). */
  #assertNotClosed(): void {
    if (this.#sockets.length > 0 && !this.isOpen) throw new Error('connection closed');
  }

  get isOpen(): boolean {
    return this.#client.isConnected;
  }

  /** Connects (and upgrades with StartTLS where configured). */
  async open(): Promise<void> {
    if (!this.#settings.startTLS) return;
    const tls = this.#settings.tls ?? {};
    const host = new URL(this.url).hostname.replace(/^\[|\]$/g, '');
    // ldapts sets no deadline on the StartTLS handshake itself.
    await this.#withDeadline(
      this.#client.startTLS({ ...tls, host, ...(isIP(host) === 0 && { servername: host }) }),
      'StartTLS handshake',
    );
  }

  async bind(dn: string, password: string): Promise<void> {
    // A DN has an `=`: a SASL mechanism name (EXTERNAL, PLAIN…) never reaches ldapts' bind.
    if (!dn.includes('=')) throw new Error(`not a DN: ${dn}`);
    if (password === '') throw new Error('refusing an unauthenticated bind (empty password)');
    this.#assertNotClosed();
    this.boundAs = undefined;
    await this.#client.bind(dn, password);
    this.boundAs = dn;
  }

  /** A search whose result references (referrals) are dropped, never followed. */
  async search(request: SearchRequest): Promise<Entry[]> {
    this.#assertNotClosed();
    const { searchEntries } = await this.#client.search(request.base, {
      scope: request.scope,
      filter: request.filter,
      attributes: request.attributes,
      explicitBufferAttributes: request.binaryAttributes ?? [],
      derefAliases: 'never',
      ...(request.sizeLimit !== undefined && { sizeLimit: request.sizeLimit }),
      ...(request.pageSize !== undefined && { paged: { pageSize: request.pageSize } }),
      timeLimit: Math.ceil(this.#settings.timeoutMs / 1000),
    });
    return searchEntries;
  }

  async close(): Promise<void> {
    if (this.isOpen)
      await this.#withDeadline(this.#client.unbind(), 'unbind').catch(() => {
        // closing anyway
      });
    for (const socket of this.#sockets) socket.destroy();
  }

  async #withDeadline<T>(operation: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        for (const socket of this.#sockets) socket.destroy();
        reject(new Error(`${what}: Operation timed out`));
      }, this.#settings.timeoutMs);
    });
    try {
      return await Promise.race([operation, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function secureConnect(args: unknown[]): TLSSocket {
  return (tlsConnect as (...a: unknown[]) => TLSSocket)(...args);
}

/** An error of the directory or of the way to it, in words an admin can act on. */
export function describeLdapError(error: unknown, timeoutMs?: number): string {
  if (error instanceof ResultCodeError) {
    const name = error.constructor.name
      .replace(/Error$/, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase();
    if (error.code === 10)
      return "referral (10): Lock does not follow referrals; point the base DN at this server's naming context";
    const text = error.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, '').trim();
    return text ? `${name} (${error.code}): ${text}` : `${name} (${error.code})`;
  }
  const { code, message } = error as { code?: string; message?: string };
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running, and is the port right?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${code})`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `host unreachable (${code})`;
  if (code === 'ECONNRESET') return 'connection reset by the server';
  if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_TLS/.test(code))
    return `TLS failed: ${message ?? code} (${code}); check caCert/caFile and the server's certificate`;
  if (message && /timed? ?out/i.test(message))
    return timeoutMs === undefined
      ? `timed out (${message})`
      : `timed out after ${timeoutMs} ms (${message})`;
  return message ?? String(error);
}

/** Errors that mean the connection can no longer be trusted (as opposed to an LDAP result code). */
export const isConnectionFailure = (error: unknown): boolean => !(error instanceof ResultCodeError);
