import { randomUUID } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';
import type pg from 'pg';
import { recordAuditEvent } from '../audit/audit.ts';
import { BACKCHANNEL_LOGOUT_DELIVERY } from '../config/defaults.ts';
import type { SigningAlg } from '../model/signing-alg.ts';

/** OIDC Back-Channel Logout 1.0 §2.4: the one event a logout token carries. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** What ended a session: named in the audit event of each delivery. */
export type LogoutTrigger =
  | 'end_session'
  | 'admin.sessions_ended'
  | 'admin.user.disabled'
  | 'admin.user.deleted'
  | 'admin.user.password_set'
  | 'account.password_reset'
  | 'account.session_ended';

/** One client to tell that a person's session with it has ended. */
export interface LogoutNotice {
  clientId: string;
  /** The person (the ID token's `sub`). */
  sub: string;
  /** The session as the client knows it (the ID token's `sid`), when Lock still knew the session. */
  sid?: string;
  trigger: LogoutTrigger;
}

/**
 * How a delivery ended (the metric's closed label set): `delivered` (200/204), `refused` (the
 * client answered 4xx: not retried, another attempt would get the same), `failed` (no answer, a
 * timeout or 5xx on every attempt), `dropped` (the queue was full).
 */
export type DeliveryOutcome = 'delivered' | 'refused' | 'failed' | 'dropped';
export const DELIVERY_OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'refused', 'failed', 'dropped'];

export interface LogoutEndpoint {
  backchannelLogoutUri?: string | undefined;
  /** The client's ID token algorithm: its logout tokens are signed alike (RS256 when unset). */
  idTokenSigningAlg?: SigningAlg | undefined;
}

/**
 * The key a client's logout tokens are signed with: the one that signs its ID tokens (Back-Channel
 * Logout 1.0 §2.4 — the RP verifies both with the same keys, as it registered them).
 */
export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateJwk: JWK;
}

export interface BackchannelLogoutOptions {
  issuer: string;
  /** The client as the catalog knows it now (undefined: gone). */
  client: (clientId: string) => LogoutEndpoint | undefined;
  /** The current signing key of an algorithm. */
  signingKey: (alg: SigningAlg) => SigningKey | undefined;
  onOutcome: (
    notice: LogoutNotice,
    outcome: DeliveryOutcome,
    detail: { attempts: number; reason?: string },
  ) => void;
  /** Overrides of BACKCHANNEL_LOGOUT_DELIVERY (config/defaults.ts). */
  delivery?: Partial<DeliverySettings>;
}

type DeliverySettings = Record<keyof typeof BACKCHANNEL_LOGOUT_DELIVERY, number>;

const importedKeys = new Map<string, Promise<CryptoKey | Uint8Array>>();

/** A logout token (§2.4): iss, aud, iat, exp, jti, sub, sid, events; no nonce; typ logout+jwt. */
export async function signLogoutToken(
  issuer: string,
  notice: LogoutNotice,
  key: SigningKey,
  lifetimeSeconds: number,
): Promise<string> {
  let imported = importedKeys.get(key.kid);
  if (!imported) {
    imported = importJWK(key.privateJwk, key.alg);
    importedKeys.set(key.kid, imported);
  }
  return new SignJWT({
    sub: notice.sub,
    ...(notice.sid !== undefined && { sid: notice.sid }),
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'logout+jwt' })
    .setIssuer(issuer)
    .setAudience(notice.clientId)
    .setIssuedAt()
    .setExpirationTime(`${lifetimeSeconds}s`)
    .setJti(randomUUID())
    .sign(await imported);
}

/**
 * Delivers logout tokens in the background: `notify` only queues, so the request that ended the
 * sessions (an admin's, a person's sign-out) never waits for a client. The queue is bounded
 * (beyond it a notice is dropped, and audited as such); each delivery makes a few attempts, each
 * with a timeout, with doubling pauses between them. The queue lives in this process: a notice
 * pending when the process stops is lost (docs/logout.md).
 */
export class BackchannelLogout {
  readonly #options: BackchannelLogoutOptions;
  readonly #delivery: DeliverySettings;
  readonly #pending: LogoutNotice[] = [];
  readonly #stopped = new AbortController();
  #running = 0;
  #idle: Array<() => void> = [];

  constructor(options: BackchannelLogoutOptions) {
    this.#options = options;
    this.#delivery = { ...BACKCHANNEL_LOGOUT_DELIVERY, ...options.delivery };
  }

  /** Queues a logout token for each notice whose client has a back-channel logout URI. */
  notify(notices: readonly LogoutNotice[]): void {
    if (this.#stopped.signal.aborted) return;
    for (const notice of notices) {
      if (!this.#options.client(notice.clientId)?.backchannelLogoutUri) continue;
      if (this.#pending.length + this.#running >= this.#delivery.queueLimit) {
        this.#report(notice, 'dropped', { attempts: 0, reason: 'the delivery queue is full' });
        continue;
      }
      this.#pending.push(notice);
    }
    this.#pump();
  }

  /** Resolves when nothing is queued or being delivered. */
  idle(): Promise<void> {
    if (this.#pending.length === 0 && this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops delivering: what is queued is dropped, pauses between attempts end. */
  stop(): void {
    this.#stopped.abort();
    this.#pending.length = 0;
  }

  #pump(): void {
    while (this.#running < this.#delivery.concurrency && this.#pending.length > 0) {
      const notice = this.#pending.shift()!;
      this.#running++;
      this.#deliver(notice).finally(() => {
        this.#running--;
        this.#pump();
        if (this.#running === 0 && this.#pending.length === 0)
          for (const resolve of this.#idle.splice(0)) resolve();
      });
    }
  }

  async #deliver(notice: LogoutNotice): Promise<void> {
    const { attempts, backoffMs } = this.#delivery;
    let reason = 'not attempted';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.#stopped.signal.aborted) break;
      const result = await this.#attempt(notice);
      if (result.kind === 'delivered' || result.kind === 'refused') {
        this.#report(notice, result.kind, {
          attempts: attempt,
          ...(result.reason !== undefined && { reason: result.reason }),
        });
        return;
      }
      reason = result.reason;
      if (attempt < attempts) await pause(backoffMs * 2 ** (attempt - 1), this.#stopped.signal);
    }
    this.#report(notice, 'failed', { attempts, reason });
  }

  async #attempt(
    notice: LogoutNotice,
  ): Promise<{ kind: 'delivered'; reason?: undefined } | { kind: 'refused' | 'retry'; reason: string }> {
    const client = this.#options.client(notice.clientId);
    const uri = client?.backchannelLogoutUri;
    if (!uri) return { kind: 'refused', reason: 'the client no longer has a back-channel logout URI' };
    const key = this.#options.signingKey(client.idTokenSigningAlg ?? 'RS256');
    if (!key) return { kind: 'retry', reason: 'no signing key loaded' };
    try {
      const token = await signLogoutToken(
        this.#options.issuer,
        notice,
        key,
        this.#delivery.tokenLifetimeSeconds,
      );
      const response = await fetch(uri, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }),
        signal: AbortSignal.any([AbortSignal.timeout(this.#delivery.timeoutMs), this.#stopped.signal]),
      });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 204) return { kind: 'delivered' };
      const reason = `answered HTTP ${response.status}`;
      // A 4xx other than 408/429 is the client's verdict on the token: asking again changes nothing.
      const permanent =
        response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
      return { kind: permanent ? 'refused' : 'retry', reason };
    } catch (error) {
      const name = (error as Error).name;
      return {
        kind: 'retry',
        reason:
          name === 'TimeoutError' ? `no answer within ${this.#delivery.timeoutMs} ms` : 'could not connect',
      };
    }
  }

  #report(notice: LogoutNotice, outcome: DeliveryOutcome, detail: { attempts: number; reason?: string }) {
    try {
      this.#options.onOutcome(notice, outcome, detail);
    } catch {
      // Reporting must not stop the queue; the audit writer logs its own failures.
    }
  }
}

/** The audit event of one delivery's outcome: `logout.backchannel`, naming the client and the person. */
export function recordDeliveryOutcome(
  pool: pg.Pool,
  notice: LogoutNotice,
  outcome: DeliveryOutcome,
  detail: { attempts: number; reason?: string },
): Promise<void> {
  return recordAuditEvent(pool, {
    type: 'logout.backchannel',
    outcome: outcome === 'delivered' ? 'success' : 'failure',
    actor: 'lock (back-channel logout)',
    subject: notice.sub,
    clientId: notice.clientId,
    ...(detail.reason !== undefined && { reason: detail.reason }),
    details: {
      outcome,
      attempts: detail.attempts,
      trigger: notice.trigger,
      ...(notice.sid !== undefined && { sid: notice.sid }),
    },
  });
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
