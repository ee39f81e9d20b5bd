import type pg from 'pg';
import { CLIENT_AUTH_DEFAULTS } from '../config/defaults.ts';
import {
  clearClientAuthFailures,
  deleteStaleClientAuthFailures,
  recordClientAuthFailures,
} from '../store/client-auth-failures.ts';

/**
 * Throttling of failed client authentication (a wrong client secret or assertion) at every
 * endpoint that authenticates clients: /token, /token/introspection, /token/revocation.
 *
 * Failures count per (client id, address) and per address. Not per client id alone: an attacker
 * could then lock a service out from anywhere; counted with the address, the honest service with
 * the right secret from its own address goes on while the attacker's address is refused. The
 * address count catches one address trying many client ids. Past a threshold each further
 * failure locks for longer (as the user lockout does, src/security/brute-force.ts), answered 429
 * with Retry-After before the client is authenticated, so a locked key learns nothing more.
 *
 * Counts live in PostgreSQL, shared by every process; a process learns a lock from the statement
 * that records a failure, and keeps it in memory, so an honest client's token request costs no
 * query here. A key with known failures also has its requests in flight capped, so a burst cannot
 * run past the threshold while its failures are being recorded.
 */
export interface ClientAuthPolicy {
  /** Failures of one client from one address before each further one locks. */
  clientAddressThreshold: number;
  /** Failures from one address, whatever the client, before each further one locks. */
  addressThreshold: number;
  waitIncrementSeconds: number;
  maxWaitSeconds: number;
  resetAfterSeconds: number;
}

export const DEFAULT_CLIENT_AUTH_POLICY: ClientAuthPolicy = CLIENT_AUTH_DEFAULTS;

/** The routed paths (src/http/routed-path.ts) whose POSTs authenticate a client (`/request`: PAR, RFC 9126). */
export const CLIENT_AUTH_PATHS = new Set(['/token', '/token/introspection', '/token/revocation', '/request']);

/** Keys held in memory at most; past it, keys neither locked nor in use are dropped (PostgreSQL keeps them). */
const MAX_KEYS = 10_000;

interface KeyState {
  threshold: number;
  /** Failures as PostgreSQL last counted them, since `firstFailureAt`. */
  failures: number;
  firstFailureAt: number;
  lockedUntil: number;
  inFlight: number;
}

export interface ClientAuthTicket {
  keys: KeyState[];
  names: string[];
  /** The (client, address) key, when the client exists. */
  pairKey: string | undefined;
}

export type ClientAuthAdmission =
  | { admitted: true; ticket: ClientAuthTicket }
  | { admitted: false; retryAfterSeconds: number };

export class ClientAuthGuard {
  readonly #db: pg.Pool;
  readonly #policy: ClientAuthPolicy;
  readonly #now: () => Date;
  readonly #isClient: (id: string) => boolean;
  readonly #keys = new Map<string, KeyState>();
  #lastSweep = 0;

  constructor(
    db: pg.Pool,
    isClient: (id: string) => boolean,
    options: { policy?: ClientAuthPolicy; now?: () => Date } = {},
  ) {
    this.#db = db;
    this.#isClient = isClient;
    this.#policy = options.policy ?? DEFAULT_CLIENT_AUTH_POLICY;
    this.#now = options.now ?? (() => new Date());
  }

  /** Before the client is authenticated: refused while a key is locked, or has too many requests in flight. */
  admit(clientId: string | undefined, address: string): ClientAuthAdmission {
    const now = this.#now().getTime();
    const pairKey =
      clientId !== undefined && clientId.length <= 256 && this.#isClient(clientId)
        ? `client:${clientId} address:${address}`
        : undefined;
    const names = pairKey ? [pairKey, `address:${address}`] : [`address:${address}`];
    const thresholds = pairKey
      ? [this.#policy.clientAddressThreshold, this.#policy.addressThreshold]
      : [this.#policy.addressThreshold];
    const keys = names.map((name, index) => this.#state(name, thresholds[index]!));
    for (const key of keys)
      if (key.lockedUntil > now)
        return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((key.lockedUntil - now) / 1000)) };
    // A client that has failed from here lately: no more requests at once than failures it has
    // left (one past the threshold). Not per address: other services behind it keep their pace.
    const pair = pairKey ? keys[0]! : undefined;
    if (pair && pair.failures > 0 && now - pair.firstFailureAt < this.#policy.resetAfterSeconds * 1000)
      if (pair.inFlight >= Math.max(1, pair.threshold - pair.failures))
        return { admitted: false, retryAfterSeconds: 1 };
    for (const key of keys) key.inFlight++;
    return { admitted: true, ticket: { keys, names, pairKey } };
  }

  /**
   * After oidc-provider answered: a failed authentication is counted (and may lock), a success
   * forgets the pair's failures. Synchronous (undefined) when there is nothing to store: the
   * honest client's steady state.
   */
  settle(ticket: ClientAuthTicket, outcome: 'failed' | 'authenticated' | 'other'): Promise<void> | undefined {
    for (const key of ticket.keys) key.inFlight--;
    if (outcome === 'failed') return this.#recordFailure(ticket);
    const pair = ticket.pairKey ? ticket.keys[0]! : undefined;
    if (outcome === 'authenticated' && pair && pair.failures > 0) {
      pair.failures = 0;
      return clearClientAuthFailures(this.#db, [ticket.pairKey!]);
    }
    this.#sweep();
    return undefined;
  }

  async #recordFailure(ticket: ClientAuthTicket): Promise<void> {
    const rows = await recordClientAuthFailures(this.#db, {
      now: this.#now(),
      resetAfterSeconds: this.#policy.resetAfterSeconds,
      waitIncrementSeconds: this.#policy.waitIncrementSeconds,
      maxWaitSeconds: this.#policy.maxWaitSeconds,
      counters: ticket.names.map((name, index) => ({ key: name, threshold: ticket.keys[index]!.threshold })),
    });
    for (const row of rows) {
      const key = this.#keys.get(row.key);
      if (!key) continue;
      key.failures = row.failures;
      key.firstFailureAt = row.firstFailureAt.getTime();
      key.lockedUntil = row.lockedUntil?.getTime() ?? 0;
    }
    this.#sweep();
  }

  #state(name: string, threshold: number): KeyState {
    let state = this.#keys.get(name);
    if (!state) {
      state = { threshold, failures: 0, firstFailureAt: 0, lockedUntil: 0, inFlight: 0 };
      this.#keys.set(name, state);
    }
    return state;
  }

  /** Keeps the map bounded, and PostgreSQL's table too (about once a minute). */
  #sweep(): void {
    const now = this.#now().getTime();
    if (this.#keys.size > MAX_KEYS)
      for (const [name, key] of this.#keys)
        if (key.inFlight === 0 && key.lockedUntil <= now) this.#keys.delete(name);
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [name, key] of this.#keys)
      if (key.inFlight === 0 && key.failures === 0) this.#keys.delete(name);
    deleteStaleClientAuthFailures(
      this.#db,
      new Date(now - this.#policy.resetAfterSeconds * 1000),
      new Date(now),
    ).catch(() => {});
  }
}

/** What the edge has read of a request (src/http/middleware.ts's state). */
interface EdgeState {
  heldBody?: Buffer;
  heldForm?: boolean;
  claimedClient?: string | null;
}

/** claimedClientId of this request, worked out once (the rate limits and the lockout both ask). */
export function claimedClient(ctx: { get(name: string): string; state: unknown }): string | undefined {
  const state = ctx.state as EdgeState;
  if (state.claimedClient === undefined)
    state.claimedClient =
      claimedClientId(ctx.get('authorization'), state.heldForm ? state.heldBody : undefined) ?? null;
  return state.claimedClient ?? undefined;
}

/**
 * The client a token, introspection or revocation request names before it is authenticated: HTTP
 * Basic's user, the form's `client_id`, or a client assertion's subject (read, not verified:
 * oidc-provider verifies it; here it only chooses what to count against).
 */
export function claimedClientId(authorization: string, formBody: Buffer | undefined): string | undefined {
  if (authorization.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0)
      try {
        return decodeURIComponent(decoded.slice(0, colon));
      } catch {
        return undefined;
      }
  }
  const form = formBody && new URLSearchParams(formBody.toString('utf8'));
  const named = form?.get('client_id');
  if (named) return named;
  const assertion = form?.get('client_assertion')?.split('.')[1];
  if (!assertion) return undefined;
  try {
    const { sub } = JSON.parse(Buffer.from(assertion, 'base64url').toString('utf8')) as { sub?: unknown };
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
