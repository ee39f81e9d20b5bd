import type { JWK } from 'jose';
import type Koa from 'koa';
import type Provider from 'oidc-provider';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import { type Catalog, loadCatalog } from '../catalog/catalog.ts';
import type { ConnectorInfo } from '../connectors/connector.ts';
import { type ConnectorSet, customClaimNames, rebuildConnectors } from '../connectors/registry.ts';
import { computeKeySet, type KeySet } from '../keys/key-set.ts';
import { openPrivateJwk } from '../keys/signing-keys.ts';
import type { Logger } from '../observability/logger.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { AccountCache } from '../store/account-cache.ts';
import { deleteSigningKeys, listSigningKeys } from '../store/signing-keys.ts';
import { BackchannelLogout, type DeliveryOutcome, recordDeliveryOutcome } from './backchannel-logout.ts';
import type { UserCodeAttempts } from './device-flow.ts';
import { createProvider, type ProviderPages } from './provider.ts';
import type { RegistrationPolicy } from './registration-policy.ts';
import type { SessionLimits } from './session-policy.ts';
import { LockSigningKey } from './signing-key.ts';

export interface RuntimeOptions {
  issuer: string;
  pool: pg.Pool;
  box: SecretBox;
  /** oidc-provider's cookie-signing key (provider.ts). */
  cookieKey: Buffer;
  /** DPoP nonces (RFC 9449 §8): the same in every process, so a nonce from one is good at another. */
  dpopNonceKey: Buffer;
  kekSource: string;
  jwksMaxAge: number;
  trustProxy: boolean;
  /** The authorization endpoint also by POST (LOCK_AUTHORIZATION_POST). */
  authorizationPost?: boolean;
  log: Logger;
  now?: () => Date;
  onTokenIssued?: (grantType: string, resource: string) => void;
  sessionLimits: SessionLimits;
  observeUpstream?: (connector: string, operation: string, outcome: 'ok' | 'error', seconds: number) => void;
  /** Runs before oidc-provider's own handling of every request it serves (request id, log, limits). */
  providerMiddleware?: Koa.Middleware[];
  /** The pages oidc-provider shows (logout, signed out, errors, the device pages). */
  providerPages: ProviderPages;
  /** Counts the user codes typed on the device page (brute-force protection). */
  userCodeAttempts?: UserCodeAttempts;
  /** Told of each back-channel logout delivery's outcome (for metrics; the audit log is written here). */
  onBackchannelLogout?: (outcome: DeliveryOutcome) => void;
  /** Dynamic client registration's policy (docs/mcp.md); none: off. */
  registration?: RegistrationPolicy;
}

interface State {
  catalog: Catalog;
  connectorSet: ConnectorSet;
  connectors: ReadonlyMap<string, ConnectorInfo>;
  keySet: KeySet;
  publicJwks: { keys: JWK[] };
  provider: Provider;
  handler: ReturnType<Provider['callback']>;
}

/**
 * The live OIDC state of this process: the catalog, the key set and the oidc-provider built on
 * them. `reload()` reads both again and swaps in a new provider, so a change made by any process
 * (or a key activating by the clock) is served without a restart.
 */
export class OidcRuntime {
  readonly #options: RuntimeOptions;
  readonly #now: () => Date;
  readonly #privateJwks = new Map<string, JWK>();
  readonly #signingKeys = new Map<string, LockSigningKey>();
  /** The accounts token redemptions read: kept across reloads (each use checks its stamp anyway). */
  readonly accounts = new AccountCache();
  #state: State | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reloading: Promise<void> | undefined;
  #followUp: Promise<void> | undefined;
  /** Logout tokens to clients whose sessions ended: one queue for this process, across reloads. */
  readonly backchannelLogout: BackchannelLogout;

  constructor(options: RuntimeOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.backchannelLogout = new BackchannelLogout({
      issuer: options.issuer,
      client: (clientId) => this.#state?.catalog.clients.get(clientId),
      signingKey: (alg) => {
        const key = this.#state?.keySet.signing.get(alg);
        const privateJwk = key && this.#privateJwks.get(key.kid);
        return key && privateJwk ? { kid: key.kid, alg, privateJwk } : undefined;
      },
      onOutcome: (notice, outcome, detail) => {
        options.onBackchannelLogout?.(outcome);
        if (outcome !== 'delivered')
          options.log.warn(
            { clientId: notice.clientId, outcome, attempts: detail.attempts, reason: detail.reason },
            'back-channel logout not delivered',
          );
        recordDeliveryOutcome(options.pool, notice, outcome, detail).catch((error) =>
          options.log.error({ err: error }, 'audit event lost'),
        );
      },
    });
  }

  get state(): State {
    if (!this.#state) throw new Error('OIDC runtime not loaded');
    return this.#state;
  }

  get ready(): boolean {
    return this.#state !== undefined && this.#state.keySet.signing.size > 0;
  }

  /**
   * Reads the catalog and keys again. Calls made while a reload runs share one follow-up reload,
   * which starts after it, so every caller sees state at least as new as its call.
   */
  reload(): Promise<void> {
    if (this.#reloading) {
      this.#followUp ??= this.#reloading
        .catch(() => {})
        .then(() => {
          this.#followUp = undefined;
          return this.reload();
        });
      return this.#followUp;
    }
    this.#reloading = this.#load().finally(() => {
      this.#reloading = undefined;
    });
    return this.#reloading;
  }

  async #load(): Promise<void> {
    const { pool, box, kekSource, jwksMaxAge } = this.#options;
    const [catalog, storedKeys] = await Promise.all([
      loadCatalog(pool, box, this.#options.issuer),
      listSigningKeys(pool),
    ]);
    const now = this.#now();
    const keySet = computeKeySet(storedKeys, now, catalog.longestTokenTtl + jwksMaxAge);
    const signingKeys = keySet.published.map(({ key }) => {
      let signingKey = this.#signingKeys.get(key.kid);
      if (!signingKey) {
        const jwk = openPrivateJwk(key, box, kekSource);
        this.#privateJwks.set(key.kid, jwk);
        signingKey = new LockSigningKey({ ...jwk, kid: key.kid, alg: key.alg });
        this.#signingKeys.set(key.kid, signingKey);
      }
      return signingKey;
    });
    const publicJwks = { keys: keySet.published.map(({ key }) => key.publicJwk) };
    const provider = createProvider({
      issuer: this.#options.issuer,
      pool,
      accounts: this.accounts,
      catalog: () => this.state.catalog,
      sessionLimits: this.#options.sessionLimits,
      middleware: this.#options.providerMiddleware ?? [],
      pages: this.#options.providerPages,
      ...(this.#options.userCodeAttempts && { userCodeAttempts: this.#options.userCodeAttempts }),
      ...(this.#options.onTokenIssued && { onTokenIssued: this.#options.onTokenIssued }),
      ...(this.#options.registration && { registration: this.#options.registration }),
      onAuditEvent: (event) => {
        recordAuditEvent(pool, event).catch((error) =>
          this.#options.log.error({ err: error }, 'audit event lost'),
        );
      },
      onServerError: (error) => this.#options.log.error({ err: error }, 'oidc-provider server error'),
      onBackchannelLogout: (notice) => this.backchannelLogout.notify([notice]),
      clients: [...catalog.clients.values()],
      connectors: () => this.state.connectors,
      jwks: { keys: signingKeys },
      publicJwks,
      signingKid: (alg) => this.state.keySet.signing.get(alg as never)?.kid,
      cookieKey: this.#options.cookieKey,
      dpopNonceKey: this.#options.dpopNonceKey,
      trustProxy: this.#options.trustProxy,
      authorizationPost: this.#options.authorizationPost === true,
      customClaims: customClaimNames(catalog.connectors),
    });
    const connectorSet = await rebuildConnectors(
      catalog.connectors,
      {
        db: pool,
        log: this.#options.log,
        box,
        issuer: this.#options.issuer,
        now: this.#now,
        ...(this.#options.observeUpstream && { observeUpstream: this.#options.observeUpstream }),
      },
      this.#state?.connectorSet,
    );
    this.#state = {
      catalog,
      connectorSet,
      connectors: new Map([...connectorSet].map(([id, { connector }]) => [id, connector])),
      keySet,
      publicJwks,
      provider,
      handler: provider.callback(),
    };
    if (keySet.expired.length > 0) {
      await deleteSigningKeys(
        pool,
        keySet.expired.map((key) => key.kid),
      );
      for (const { kid } of keySet.expired) {
        this.#privateJwks.delete(kid);
        this.#signingKeys.delete(kid);
      }
    }
    this.#schedule(keySet.changesAt, now);
  }

  /** Reloads when the key set changes by the clock (a next key starts signing, a retired key goes). */
  #schedule(changesAt: Date | null, now: Date): void {
    clearTimeout(this.#timer);
    if (!changesAt) return;
    const delay = Math.min(Math.max(changesAt.getTime() - now.getTime(), 0) + 50, 2 ** 31 - 1);
    this.#timer = setTimeout(() => {
      this.reload().catch((error) => this.#options.log.error({ err: error }, 'scheduled key reload failed'));
    }, delay).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.backchannelLogout.stop();
  }
}
