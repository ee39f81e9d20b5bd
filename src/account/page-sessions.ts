// The /account page's own sessions: a random id in an HttpOnly cookie, only its SHA-256 in
// PostgreSQL, a short idle timeout, bound to the Lock sign-in session it was made from.
import { createHash, randomBytes } from 'node:crypto';
import {
  type AccountSession,
  deleteAccountSession,
  insertAccountSession,
  touchAccountSession,
} from '../store/account-sessions.ts';
import type { Queryable } from '../store/pool.ts';
import type { AccountSignedIn } from './account-sign-in.ts';

export interface PageSessionLimits {
  /** Seconds unused after which the page session ends. */
  idleSeconds: number;
  /** Seconds after its start after which it ends however busy. */
  maxAgeSeconds: number;
  /** Seconds after the person last proved who they are within which a change is allowed. */
  reauthSeconds: number;
}

const hashOf = (cookie: string) => createHash('sha256').update(cookie).digest('hex');
/** 256 random bits, base64url: the cookie's whole value. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

export class PageSessions {
  readonly #db: Queryable;
  readonly #limits: PageSessionLimits;
  readonly #now: () => Date;

  constructor(db: Queryable, limits: PageSessionLimits, now: () => Date) {
    this.#db = db;
    this.#limits = limits;
    this.#now = now;
  }

  get limits(): PageSessionLimits {
    return this.#limits;
  }

  /** A new page session for a finished sign-in: the cookie value (never stored). */
  async open(signedIn: AccountSignedIn): Promise<string> {
    const cookie = randomBytes(32).toString('base64url');
    const now = this.#now();
    await insertAccountSession(this.#db, {
      idHash: hashOf(cookie),
      sub: signedIn.sub,
      sessionUid: signedIn.sessionUid,
      authTime: signedIn.authTime,
      amr: signedIn.amr,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.#limits.idleSeconds * 1000),
    });
    return cookie;
  }

  /** The live page session of this cookie (its idle timeout pushed back), or undefined. */
  async current(cookie: string | undefined): Promise<AccountSession | undefined> {
    if (!cookie || !COOKIE_VALUE.test(cookie)) return undefined;
    return touchAccountSession(
      this.#db,
      hashOf(cookie),
      this.#now(),
      this.#limits.idleSeconds,
      this.#limits.maxAgeSeconds,
    );
  }

  async close(cookie: string | undefined): Promise<void> {
    if (cookie && COOKIE_VALUE.test(cookie)) await deleteAccountSession(this.#db, hashOf(cookie));
  }

  /** Whether the person proved who they are recently enough to change something now. */
  isRecent(session: AccountSession): boolean {
    return this.#now().getTime() - session.authTime.getTime() <= this.#limits.reauthSeconds * 1000;
  }
}
