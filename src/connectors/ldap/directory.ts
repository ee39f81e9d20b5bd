import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { LdapSettings } from './config.ts';
import { describeLdapError, isConnectionFailure, LdapConnection } from './connection.ts';
import { present } from './filters.ts';
import { Pool } from './pool.ts';

export type FailedStep = 'configuration' | 'connect' | 'tls' | 'service bind' | 'search';

/** The directory failed (not the user): which step, on which server, and why, in an admin's words. */
export class DirectoryFailure extends Error {
  override name = 'DirectoryFailure';
  readonly step: FailedStep;
  constructor(step: FailedStep, message: string, options?: ErrorOptions) {
    super(message, options);
    this.step = step;
  }
}

/** Idle service connections close after this long. */
const IDLE_TIMEOUT_MS = 30_000;

/**
 * The way to one directory: its servers in failover order, TLS, and a small pool of connections
 * bound as the service account.
 */
export class Directory {
  readonly settings: LdapSettings;
  readonly #tls: ConnectionOptions | undefined;
  readonly #pool: Pool<LdapConnection>;
  /** Where to start the next connection: the server that answered last. */
  #preferred = 0;

  constructor(settings: LdapSettings) {
    this.settings = settings;
    this.#tls = tlsOptionsFor(settings);
    this.#pool = new Pool({
      size: settings.poolSize,
      acquireTimeoutMs: settings.connectTimeoutMs + settings.timeoutMs,
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      create: () => this.connectAsService(),
      isUsable: (connection) => connection.isOpen,
      destroy: (connection) => connection.close(),
    });
  }

  /**
   * Runs `work` on a pooled connection bound as the service account. `work` may bind as a user;
   * the connection is bound as the service again before it is used again.
   */
  withServiceConnection<R>(work: (connection: LdapConnection) => Promise<R>): Promise<R> {
    return this.#pool.use(async (connection) => {
      if (connection.boundAs !== this.settings.bindDN) await this.bindService(connection);
      return work(connection);
    }, isConnectionFailure);
  }

  /** A new connection to the first server that answers, bound as the service account. */
  async connectAsService(onConnected?: (connection: LdapConnection) => void): Promise<LdapConnection> {
    const connection = await this.connect();
    onConnected?.(connection);
    try {
      await this.bindService(connection);
      return connection;
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** A new connection, TLS established, to the first of the servers that answers (failover). */
  async connect(): Promise<LdapConnection> {
    const { urls } = this.settings;
    const failures: DirectoryFailure[] = [];
    for (let attempt = 0; attempt < urls.length; attempt++) {
      const index = (this.#preferred + attempt) % urls.length;
      const connection = new LdapConnection({
        url: urls[index]!,
        startTLS: this.settings.startTLS,
        tls: this.#tls,
        connectTimeoutMs: this.settings.connectTimeoutMs,
        timeoutMs: this.settings.timeoutMs,
      });
      try {
        await connection.open();
        // ldaps:// connects on the first operation: make it happen here, where failover can act.
        if (!connection.isOpen)
          await connection.search(ROOT_DSE_PROBE).catch(rethrowIfNotConnected(connection));
        this.#preferred = index;
        return connection;
      } catch (error) {
        await connection.close();
        failures.push(connectionFailure(connection, error, this.settings.timeoutMs));
      }
    }
    if (failures.length === 1) throw failures[0]!;
    throw new DirectoryFailure(
      failures.at(-1)!.step,
      `no server answered: ${failures.map((failure) => failure.message).join('; ')}`,
    );
  }

  /** Binds (again) as the service account. */
  async bindService(connection: LdapConnection): Promise<void> {
    try {
      await connection.bind(this.settings.bindDN, this.settings.bindPassword);
    } catch (error) {
      throw new DirectoryFailure(
        isConnectionFailure(error) ? 'connect' : 'service bind',
        `${connection.url}: bind as ${this.settings.bindDN} failed: ${describeLdapError(error, this.settings.timeoutMs)}`,
        { cause: error },
      );
    }
  }

  /** Closes the idle connections. */
  close(): Promise<void> {
    return this.#pool.drain();
  }
}

/** The root DSE, read anonymously: a probe that opens an ldaps:// connection. */
const ROOT_DSE_PROBE = {
  base: '',
  scope: 'base' as const,
  filter: present('objectClass'),
  attributes: ['1.1'],
  sizeLimit: 1,
};

/** After the probe, an LDAP answer of any kind (even "refused") means the connection works. */
const rethrowIfNotConnected = (connection: LdapConnection) => (error: unknown) => {
  if (!connection.isOpen) throw error;
};

function connectionFailure(connection: LdapConnection, error: unknown, timeoutMs: number): DirectoryFailure {
  const { connected } = connection.progress;
  const step: FailedStep = !connected ? 'connect' : 'tls';
  const what = step === 'connect' ? 'connect' : 'TLS';
  return new DirectoryFailure(
    step,
    `${connection.url}: ${what} failed: ${describeLdapError(error, timeoutMs)}`,
    {
      cause: error,
    },
  );
}

/** TLS options for ldaps:// and StartTLS; undefined when the admin chose plain text (tests only). */
function tlsOptionsFor(settings: LdapSettings): ConnectionOptions | undefined {
  const usesTls = settings.startTLS || settings.urls.some((url) => /^ldaps:/i.test(url));
  if (!usesTls) return undefined;
  const ca = settings.caFile !== undefined ? readCaFile(settings.caFile) : settings.caCert;
  return {
    ...(ca !== undefined && { ca }),
    rejectUnauthorized: !settings.insecureSkipVerify,
    minVersion: 'TLSv1.2',
  };
}

/**
 * The PEM certificates of `caFile`. Whatever is wrong with the path — missing, unreadable, a
 * directory, not PEM — the message is the same: an admin API caller learns nothing about which
 * paths exist on Lock's server.
 */
function readCaFile(path: string): string {
  try {
    const pem = readFileSync(path, 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new Error('no certificate');
    for (const block of blocks) new X509Certificate(block);
    return pem;
  } catch {
    throw new DirectoryFailure(
      'configuration',
      `caFile ${path} is not a readable file of PEM CA certificates`,
    );
  }
}
