import Provider, { type Adapter, type AdapterPayload, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type pg from 'pg';
import type { AccountCache } from '../store/account-cache.ts';
import {
  consumeAndInsertSuccessor,
  consumePayloadOnce,
  deleteGrantAndItsTokens,
  deletePayload,
  deletePayloadsOfGrant,
  findGrantSource,
  findPayload,
  findPayloadByUid,
  findPayloadByUserCode,
  insertPayloadOnce,
  type PayloadRow,
  sweepExpiredPayloads,
  upsertPayload,
} from '../store/oidc-payloads.ts';
import type { IdentityWithLocalAccount } from '../store/users.ts';

const toPayload = (row: PayloadRow | undefined): AdapterPayload | undefined => {
  if (!row) return undefined;
  return row.consumed_at
    ? { ...(row.payload as AdapterPayload), consumed: Math.floor(row.consumed_at.getTime() / 1000) }
    : (row.payload as AdapterPayload);
};

/**
 * Grant sources — a refresh token or an authorization code — are always followed, in the same
 * request, by a read of their grant, (when bound to it) their session and their account. Their
 * find reads the first three and the account's stamp in one statement and keeps them for the
 * request at hand (oidc-provider's context), where the next find or findByUid takes them once
 * instead of querying again; the account comes from AccountCache when its stamp holds.
 */
const GRANT_SOURCES = new Set(['RefreshToken', 'AuthorizationCode']);
const readAhead = new WeakMap<object, Map<string, AdapterPayload | undefined>>();

const grantKey = (id: string) => `Grant:${id}`;
const sessionKey = (uid: string) => `Session:uid:${uid}`;

function takeReadAhead(key: string): { payload: AdapterPayload | undefined } | undefined {
  const ctx = Provider.ctx;
  const rows = ctx && readAhead.get(ctx);
  if (!rows?.has(key)) return undefined;
  const payload = rows.get(key);
  rows.delete(key);
  return { payload };
}

/**
 * The identity (with its local account) a grant source was issued to, known current when the
 * source was read: the redemption's findAccount comes next, before any write (src/oidc/accounts.ts
 * takes it once).
 */
const accountReadAhead = new WeakMap<object, { sub: string; found: IdentityWithLocalAccount | undefined }>();

/**
 * What this request's grant source read along for `sub`, taken once: `{ found }` (found is
 * undefined when the identity is gone), or undefined when nothing was read ahead for it.
 */
export function takeAccountReadAhead(
  sub: string,
): { found: IdentityWithLocalAccount | undefined } | undefined {
  const ctx = Provider.ctx;
  const ahead = ctx && accountReadAhead.get(ctx);
  if (!ahead || ahead.sub !== sub) return undefined;
  accountReadAhead.delete(ctx);
  return { found: ahead.found };
}

const known = (found: IdentityWithLocalAccount | undefined) => (found ? { found } : undefined);

/** Any write by the request makes what it read ahead possibly stale: forget all of it. */
function forgetReadAhead(): void {
  const ctx = Provider.ctx;
  if (ctx) {
    readAhead.delete(ctx);
    accountReadAhead.delete(ctx);
  }
}

/**
 * A refresh token's rotation: oidc-provider consumes the old token and, next and in the same
 * request, saves its successor. The consume waits here (request → old token id) and goes with the
 * successor's write in one statement (consumeAndInsertSuccessor): one round trip instead of two,
 * with the same single-use guarantee. Should the successor never be written, nothing was consumed
 * and nothing issued.
 */
const pendingRotation = new WeakMap<object, string>();

const isRotation = (ctx: KoaContextWithOIDC | undefined) =>
  ctx?.oidc?.route === 'token' && ctx.oidc.params?.grant_type === 'refresh_token';

/** oidc-provider's own words for a second use, so a lost race reads like any other reuse. */
const REUSE_MESSAGES: Record<string, string> = {
  AuthorizationCode: 'authorization code already consumed',
  RefreshToken: 'refresh token already used',
};

/**
 * Stores every oidc-provider model (sessions, interactions, grants, codes, refresh tokens, …) in
 * one table keyed by (model, id). Expired rows are invisible at once and deleted by `sweepExpired`.
 */
/** Seconds an expired device code stays readable, to be answered `expired_token` rather than unknown. */
const EXPIRED_DEVICE_CODES_KEPT = 3600;

export class PostgresAdapter implements Adapter {
  readonly #pool: pg.Pool;
  readonly #model: string;
  readonly #accounts: AccountCache;

  constructor(pool: pg.Pool, model: string, accounts: AccountCache) {
    this.#pool = pool;
    this.#model = model;
    this.#accounts = accounts;
  }

  #key(id: string) {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    forgetReadAhead();
    // RFC 8628 §3.5: a device polling past its code's expiry is told `expired_token`, and the page
    // says the code expired: oidc-provider decides that from `exp`, so the row outlives it a while.
    const kept =
      this.#model === 'DeviceCode' && expiresIn ? expiresIn + EXPIRED_DEVICE_CODES_KEPT : expiresIn;
    const row = {
      model: this.#model,
      id,
      payload,
      grantId: payload.grantId ?? null,
      userCode: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expiresIn: kept || 0,
    };
    // A client assertion's jti (ReplayDetection) is single use. oidc-provider looks it up and then
    // saves it: two uses at once would both pass the lookup. Here the insert decides, across processes.
    if (this.#model === 'ReplayDetection') {
      if (!(await insertPayloadOnce(this.#pool, row)))
        throw new errors.InvalidClientAuth('client assertion tokens must only be used once');
      return;
    }
    const ctx = Provider.ctx;
    const rotated = this.#model === 'RefreshToken' && ctx ? pendingRotation.get(ctx) : undefined;
    if (rotated !== undefined) {
      pendingRotation.delete(ctx!);
      const outcome = await consumeAndInsertSuccessor(this.#pool, rotated, row);
      if (!outcome.consumed) await this.#answerReuse(outcome.grantId);
      return;
    }
    await upsertPayload(this.#pool, row);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const ahead = takeReadAhead(this.#key(id));
    if (ahead) return ahead.payload;
    const ctx = Provider.ctx;
    if (ctx && GRANT_SOURCES.has(this.#model)) return this.#findGrantSource(ctx, id);
    return toPayload(await findPayload(this.#pool, this.#model, id));
  }

  async #findGrantSource(ctx: object, id: string): Promise<AdapterPayload | undefined> {
    const rows = await findGrantSource(this.#pool, this.#model, id);
    const source = toPayload(rows.source);
    if (!source) return undefined;
    if (rows.account && typeof source.accountId === 'string') {
      const sub = source.accountId;
      const { stamp } = rows.account;
      // The identity is gone, or its account is kept as it is now; otherwise findAccount reads it.
      const found = stamp === undefined ? { found: undefined } : known(this.#accounts.current(sub, stamp));
      if (found) accountReadAhead.set(ctx, { sub, ...found });
    }
    const ahead = new Map<string, AdapterPayload | undefined>();
    // A grant or session that is gone is remembered as gone: the follow-up find answers undefined.
    if (typeof source.grantId === 'string') ahead.set(grantKey(source.grantId), toPayload(rows.grant));
    if (typeof source.sessionUid === 'string')
      ahead.set(sessionKey(source.sessionUid), toPayload(rows.session));
    readAhead.set(ctx, ahead);
    return source;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return toPayload(await findPayloadByUserCode(this.#pool, this.#model, userCode));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (this.#model === 'Session') {
      const ahead = takeReadAhead(sessionKey(uid));
      if (ahead) return ahead.payload;
    }
    return toPayload(await findPayloadByUid(this.#pool, this.#model, uid));
  }

  /**
   * Single use under concurrency. oidc-provider reads a code or refresh token, checks its
   * `consumed`, and only later consumes it: two redemptions at once both pass the check. Here the
   * consuming statement decides; whoever loses is a reuse (RFC 6749 §4.1.2, RFC 9700 §4.14.2),
   * answered as oidc-provider answers one it sees: the grant and all its tokens are revoked —
   * including those the winner is issuing, which die with the grant — and `invalid_grant`.
   */
  async consume(id: string): Promise<void> {
    forgetReadAhead();
    const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
    if (this.#model === 'RefreshToken' && ctx && isRotation(ctx)) {
      pendingRotation.set(ctx, id); // decided with the successor's write: see pendingRotation
      return;
    }
    const outcome = await consumePayloadOnce(this.#pool, this.#model, id);
    if (!outcome.consumed) await this.#answerReuse(outcome.grantId);
  }

  /** A lost consume is a reuse: the grant and its tokens go, and the request fails invalid_grant. */
  async #answerReuse(grantId: string | undefined): Promise<never> {
    // Of several losers, the one that removes the grant tells (the audit log records one reuse).
    if (grantId !== undefined && (await deleteGrantAndItsTokens(this.#pool, grantId))) {
      const ctx = Provider.ctx as KoaContextWithOIDC | undefined;
      ctx?.oidc.provider.emit('grant.revoked', ctx, grantId);
    }
    throw new errors.InvalidGrant(REUSE_MESSAGES[this.#model] ?? `${this.#model} already consumed`);
  }

  async destroy(id: string): Promise<void> {
    forgetReadAhead();
    await deletePayload(this.#pool, this.#model, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    forgetReadAhead();
    await deletePayloadsOfGrant(this.#pool, this.#model, grantId);
  }
}

/** Deletes expired rows in bounded batches; returns how many went. */
export const sweepExpired = (pool: pg.Pool, batchSize = 1000): Promise<number> =>
  sweepExpiredPayloads(pool, batchSize);
