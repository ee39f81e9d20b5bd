import {
  InappropriateAuthError,
  InvalidCredentialsError,
  ResultCodeError,
  UnwillingToPerformError,
} from 'ldapts';
import {
  observed,
  type PasswordAttempt,
  type PasswordConnector,
  type PasswordLoginResult,
  type RefreshConnector,
  type TestableConnector,
  UpstreamError,
  type UpstreamIdentity,
  type UpstreamObserver,
} from '../connector.ts';
import { accountRestrictionOf, restrictionFromBindError } from './account-status.ts';
import { BindTiming } from './bind-timing.ts';
import { type LdapSettings, resolveLdapSettings } from './config.ts';
import { describeLdapError, type LdapConnection } from './connection.ts';
import { Directory, DirectoryFailure } from './directory.ts';
import type { DirectoryEntry } from './entry.ts';
import { findGroupNames } from './groups.ts';
import { formatObjectGuid } from './object-guid.ts';
import { type ConnectionTestReport, testDirectoryConnection } from './test-connection.ts';
import { findUserById, findUsersByName } from './users.ts';

/** What the connector logs to (pino's shape). */
export interface ConnectorLog {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface LdapConnectorOptions {
  id: string;
  name: string;
  /** `connectors[].config` with its secrets opened. */
  config: unknown;
  log: ConnectorLog;
  now?: () => Date;
  observeUpstream?: UpstreamObserver;
}

const AMBIGUOUS_MESSAGE = 'login.errors.invalid_credentials';

/**
 * A company directory (LDAP, or Active Directory with `activeDirectory: true`): the user is found
 * with the service account, then bound with the DN the directory returned (Dex's bind–search–bind).
 */
export class LdapConnector implements PasswordConnector, RefreshConnector, TestableConnector {
  readonly type = 'ldap';
  readonly id: string;
  readonly name: string;
  readonly #log: ConnectorLog;
  readonly #now: () => Date;
  readonly #bindTiming = new BindTiming();
  readonly #observe: UpstreamObserver | undefined;
  readonly #directory: Directory | undefined;
  /** Why this connector cannot work, when its configuration is broken: reported on every use. */
  readonly #broken: string | undefined;

  constructor(options: LdapConnectorOptions) {
    this.id = options.id;
    this.name = options.name;
    this.#log = options.log;
    this.#now = options.now ?? (() => new Date());
    this.#observe = options.observeUpstream;
    try {
      this.#directory = new Directory(resolveLdapSettings(options.config));
    } catch (error) {
      this.#broken = `invalid configuration: ${(error as Error).message}`;
      this.#log.error({ connector: this.id }, `LDAP connector ${this.id}: ${this.#broken}`);
      return;
    }
    const { settings } = this.#directory;
    if (settings.insecureSkipVerify)
      this.#log.warn(
        { connector: this.id, insecureSkipVerify: true },
        `LDAP connector ${this.id}: TLS CERTIFICATE VERIFICATION IS OFF (insecureSkipVerify). Anyone on the network path can impersonate the directory and read every password. Never use this in production.`,
      );
    if (settings.insecureNoTLS)
      this.#log.warn(
        { connector: this.id, insecureNoTLS: true },
        `LDAP connector ${this.id}: PASSWORDS GO TO THE DIRECTORY IN CLEAR TEXT (insecureNoTLS). Never use this in production.`,
      );
  }

  async login(username: string, password: string, attempt?: PasswordAttempt): Promise<PasswordLoginResult> {
    // An empty password would be an RFC 4513 unauthenticated bind, which many servers answer "success".
    if (password === '') return { outcome: 'invalid-credentials' };
    const directory = this.#ready();
    return this.#upstream('login', () =>
      directory.withServiceConnection(async (connection) => {
        const entries = await findUsersByName(connection, directory.settings, username);
        if (entries.length === 0) {
          await this.#bindTiming.waitLikeABind();
          return { outcome: 'unknown-user' };
        }
        if (entries.length > 1) {
          this.#log.warn(
            { connector: this.id, dns: entries.map((entry) => entry.dn) },
            `LDAP connector ${this.id}: a username matches more than one entry; refusing it (check userSearch)`,
          );
          return { outcome: 'refused', reason: 'ambiguous username', message: AMBIGUOUS_MESSAGE };
        }
        const entry = entries[0]!;
        // Every name that finds this entry (sAMAccountName, UPN, any case) draws on its one budget.
        const account = {
          upstreamId: stableIdOf(entry, directory.settings),
          username: entry.first(directory.settings.userSearch.preferredUsernameAttribute) ?? username,
        };
        if (attempt && !(await attempt.admit(account))) {
          await this.#bindTiming.waitLikeABind(); // a refusal takes as long as a wrong password
          return { outcome: 'locked-out' };
        }
        const bindStarted = performance.now();
        const bound = await bindAsUser(connection, entry.dn, password);
        this.#bindTiming.record(performance.now() - bindStarted);
        if (bound.outcome !== 'authenticated') return bound;
        const restriction = accountRestrictionOf(entry, directory.settings.activeDirectory, this.#now());
        if (restriction) return { outcome: 'refused', ...restriction };
        await directory.bindService(connection); // groups are read as the service account
        return { outcome: 'authenticated', identity: await this.#identityOf(connection, entry, username) };
      }),
    );
  }

  async refresh(identity: UpstreamIdentity): Promise<UpstreamIdentity | undefined> {
    const directory = this.#ready();
    return this.#upstream('refresh', () =>
      directory.withServiceConnection(async (connection) => {
        const entry = await findUserById(connection, directory.settings, identity.upstreamId);
        if (!entry) return undefined;
        if (accountRestrictionOf(entry, directory.settings.activeDirectory, this.#now())) return undefined;
        return this.#identityOf(connection, entry, identity.username);
      }),
    );
  }

  /**
   * Each step on the way to the directory (connect, TLS, service bind, a sample user search and its
   * groups) with its outcome: what the admin API shows when a connector is saved or checked.
   */
  testConnection(options: { username?: string } = {}): Promise<ConnectionTestReport> {
    if (!this.#directory)
      return Promise.resolve({
        ok: false,
        steps: [{ step: 'configuration', ok: false, detail: this.#broken!, durationMs: 0 }],
      });
    return testDirectoryConnection(this.#directory, options);
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    await this.#directory?.close();
  }

  #ready(): Directory {
    if (!this.#directory) throw new UpstreamError(`LDAP connector ${this.id}: ${this.#broken}`);
    return this.#directory;
  }

  async #upstream<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await observed(this.#observe, operation, work);
    } catch (error) {
      if (error instanceof UpstreamError) throw error;
      const timeoutMs = this.#directory?.settings.timeoutMs;
      const detail =
        error instanceof DirectoryFailure
          ? error.message
          : `${operation} failed: ${describeLdapError(error, timeoutMs)}`;
      throw new UpstreamError(`LDAP connector ${this.id}: ${detail}`, { cause: error });
    }
  }

  async #identityOf(
    connection: LdapConnection,
    entry: DirectoryEntry,
    typed: string,
  ): Promise<UpstreamIdentity> {
    const { userSearch } = this.#directory!.settings;
    const email = entry.first(userSearch.emailAttribute);
    const name = entry.first(userSearch.nameAttribute);
    const claims = claimsOf(entry, userSearch.claims);
    return {
      upstreamId: stableIdOf(entry, this.#directory!.settings),
      username: entry.first(userSearch.preferredUsernameAttribute) ?? typed,
      ...(email !== undefined && { email }),
      ...(name !== undefined && { name }),
      groups: await findGroupNames(connection, this.#directory!.settings, entry),
      ...(Object.keys(claims).length > 0 && { claims }),
    };
  }
}

/** Binds as the user; a refused bind is a login outcome, anything else a directory failure. */
async function bindAsUser(
  connection: LdapConnection,
  dn: string,
  password: string,
): Promise<PasswordLoginResult | { outcome: 'authenticated' }> {
  try {
    await connection.bind(dn, password);
    return { outcome: 'authenticated' };
  } catch (error) {
    if (error instanceof InvalidCredentialsError) {
      const restriction = restrictionFromBindError(error.message);
      return restriction ? { outcome: 'refused', ...restriction } : { outcome: 'invalid-credentials' };
    }
    // No password on the entry, or a server that will not let this entry bind.
    if (error instanceof InappropriateAuthError || error instanceof UnwillingToPerformError)
      return { outcome: 'invalid-credentials' };
    if (error instanceof ResultCodeError)
      throw new DirectoryFailure('search', `bind as ${dn} failed: ${describeLdapError(error)}`, {
        cause: error,
      });
    throw error;
  }
}

function stableIdOf(entry: DirectoryEntry, settings: LdapSettings): string {
  const attribute = settings.userSearch.idAttribute;
  if (attribute.toLowerCase() === 'objectguid') {
    const guid = entry.binary(attribute);
    if (guid?.length === 16) return formatObjectGuid(guid);
  } else {
    const id = entry.first(attribute);
    if (id) return id;
  }
  throw new DirectoryFailure(
    'search',
    `user ${entry.dn} has no ${attribute} (userSearch.idAttribute): it cannot be told apart from others`,
  );
}

function claimsOf(entry: DirectoryEntry, mapping: Record<string, string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [claim, attribute] of Object.entries(mapping)) {
    const values = entry.values(attribute);
    if (values.length === 1) claims[claim] = values[0];
    else if (values.length > 1) claims[claim] = values;
  }
  return claims;
}
