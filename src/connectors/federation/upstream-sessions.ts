import type { SecretBox } from '../../security/secret-box.ts';
import type { Queryable } from '../../store/pool.ts';
import {
  claimUpstreamRefresh,
  findUpstreamToken,
  forgetUpstreamToken,
  releaseUpstreamRefresh,
  saveUpstreamToken,
} from '../../store/upstream-tokens.ts';
import type { UpstreamIdentity } from '../connector.ts';

/** What a type's re-read upstream gives: the identity as it is now, or the upstream's refusal. */
export type UpstreamReread =
  | { kind: 'current'; identity: UpstreamIdentity; refreshToken?: string }
  /** The upstream refused the refresh token (revoked grant, disabled user): the session is over. */
  | { kind: 'refused'; reason: string };

export interface UpstreamSessionsOptions {
  connectorId: string;
  db: Queryable;
  box: SecretBox;
  now: () => Date;
  /** A Lock refresh asks the upstream again at most this often (`refreshInterval`). */
  refreshIntervalMs: number;
}

// Long enough for one refresh request upstream, timeouts included; then another process may try.
const REFRESH_CLAIM_MS = 30_000;

/**
 * A person's session at the upstream, as Lock's refresh tokens need it (RefreshConnector): the
 * upstream's refresh token sealed at rest, and when their claims were last read upstream. A Lock
 * refresh within `refreshInterval` of the last read changes nothing; after it, one process uses
 * the upstream refresh token (they rotate) and the person's claims and groups follow the upstream's.
 * Without an upstream refresh token (none issued), Lock's refresh ends after `refreshInterval`.
 */
export class UpstreamSessions {
  readonly #options: UpstreamSessionsOptions;

  constructor(options: UpstreamSessionsOptions) {
    this.#options = options;
  }

  /** After a sign-in: the refresh token to use next (if the upstream issued one), read now. */
  async remember(identity: UpstreamIdentity, refreshToken: string | undefined): Promise<void> {
    await saveUpstreamToken(
      this.#options.db,
      this.#key(identity.upstreamId),
      refreshToken === undefined ? undefined : this.#seal(identity.upstreamId, refreshToken),
      this.#options.now(),
    );
  }

  /** The identity for a Lock refresh: re-read upstream once the interval is over; undefined ends the refresh. */
  async refresh(
    identity: UpstreamIdentity,
    reread: (refreshToken: string) => Promise<UpstreamReread>,
    onRefused?: (reason: string) => void,
  ): Promise<UpstreamIdentity | undefined> {
    const key = this.#key(identity.upstreamId);
    const now = this.#options.now();
    const checkedBefore = new Date(now.getTime() - this.#options.refreshIntervalMs);
    const claimed = await claimUpstreamRefresh(this.#options.db, key, checkedBefore, now, REFRESH_CLAIM_MS);
    if (!claimed) {
      const row = await findUpstreamToken(this.#options.db, key);
      if (!row) return undefined; // never signed in here, or the upstream refused: sign in again
      // Read recently, or being read by another request right now: as it was.
      return identity;
    }
    if (claimed.sealedRefreshToken === undefined) {
      onRefused?.('the upstream issued no refresh token and refreshInterval is over');
      await forgetUpstreamToken(this.#options.db, key);
      return undefined;
    }
    let result: UpstreamReread;
    try {
      result = await reread(this.#open(identity.upstreamId, claimed.sealedRefreshToken));
    } catch (error) {
      await releaseUpstreamRefresh(this.#options.db, key);
      throw error;
    }
    if (result.kind === 'refused' || result.identity.upstreamId !== identity.upstreamId) {
      onRefused?.(result.kind === 'refused' ? result.reason : 'the refreshed identity is another person');
      await forgetUpstreamToken(this.#options.db, key);
      return undefined;
    }
    await saveUpstreamToken(
      this.#options.db,
      key,
      this.#seal(
        identity.upstreamId,
        result.refreshToken ?? this.#open(identity.upstreamId, claimed.sealedRefreshToken),
      ),
      this.#options.now(),
    );
    return result.identity;
  }

  #key(upstreamId: string) {
    return { connector: this.#options.connectorId, upstreamId };
  }

  // Bound to the connector and person: a sealed token moved to another row does not open.
  #context(upstreamId: string) {
    return `upstream_refresh_token:${this.#options.connectorId}:${upstreamId}`;
  }

  #seal(upstreamId: string, token: string): string {
    return this.#options.box.seal(token, this.#context(upstreamId));
  }

  #open(upstreamId: string, sealed: string): string {
    return this.#options.box.open(sealed, this.#context(upstreamId));
  }
}
