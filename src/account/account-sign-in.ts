// How /account signs a person in: as Lock's own relying party (the built-in `lock-account`
// client), through Lock's authorization endpoint like any application — so every rule of a Lock
// sign-in (second factor, step-up, lockouts, session limits) applies — with state and PKCE S256.
// The code comes back to /account/callback and is redeemed here, in the process: Lock is both the
// provider and the client, so it reads the code it issued rather than calling its own token
// endpoint over the network (which behind a proxy may not even be reachable from inside).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import { ACCOUNT_CLIENT_ID, accountCallbackUrl } from '../catalog/built-ins.ts';
import type { SecretBox } from '../security/secret-box.ts';

/** What the browser carries (sealed, in a cookie) between the redirect to sign in and the callback. */
interface PendingSignIn {
  state: string;
  verifier: string;
  /** A path under /account to return to. */
  returnTo: string;
  /** Epoch milliseconds after which the callback is refused. */
  expires: number;
}

/** A sign-in must come back within this long (the interaction's own limit is longer; people are quicker). */
export const PENDING_SIGN_IN_SECONDS = 15 * 60;
const PENDING_TTL_MS = PENDING_SIGN_IN_SECONDS * 1000;
const SEALING_CONTEXT = 'account sign-in v1';

/** A redeemed code: who signed in, in which Lock session, when and how. */
export interface AccountSignedIn {
  sub: string;
  sessionUid: string;
  authTime: Date;
  amr: string[];
  returnTo: string;
}

export type CallbackOutcome =
  | { status: 'signed-in'; signedIn: AccountSignedIn }
  /** Nothing usable: no pending sign-in, another browser's state, a spent or foreign code. */
  | { status: 'refused'; reason: string }
  /** The person cancelled, or Lock refused them (access_denied, login_required, …). */
  | { status: 'denied'; error: string };

const base64url = (bytes: Buffer) => bytes.toString('base64url');
const sameText = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** A path under /account, and nothing else: the return target comes from a query string. */
export function safeReturnPath(candidate: unknown): string {
  if (typeof candidate !== 'string') return '/account';
  return /^\/account(?:\/[A-Za-z0-9/_-]*)?(?:#[A-Za-z0-9_-]+)?$/.test(candidate) && !candidate.includes('//')
    ? candidate
    : '/account';
}

export class AccountSignIn {
  readonly #issuer: string;
  readonly #box: SecretBox;
  readonly #provider: () => Provider;
  readonly #now: () => Date;

  constructor(options: { issuer: string; box: SecretBox; provider: () => Provider; now: () => Date }) {
    this.#issuer = options.issuer;
    this.#box = options.box;
    this.#provider = options.provider;
    this.#now = options.now;
  }

  /**
   * The authorization request to send the browser to, and the sealed value its cookie keeps.
   * `fresh`: the person must type their credentials again (prompt=login), whatever their session.
   */
  start(returnTo: string, fresh: boolean): { location: string; pending: string } {
    const pending: PendingSignIn = {
      state: base64url(randomBytes(24)),
      verifier: base64url(randomBytes(32)),
      returnTo: safeReturnPath(returnTo),
      expires: this.#now().getTime() + PENDING_TTL_MS,
    };
    const url = new URL(`${this.#issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: ACCOUNT_CLIENT_ID,
      response_type: 'code',
      redirect_uri: accountCallbackUrl(this.#issuer),
      scope: 'openid',
      state: pending.state,
      code_challenge: base64url(createHash('sha256').update(pending.verifier).digest()),
      code_challenge_method: 'S256',
      ...(fresh && { prompt: 'login', max_age: '0' }),
    }).toString();
    return { location: url.toString(), pending: this.#box.seal(JSON.stringify(pending), SEALING_CONTEXT) };
  }

  /** The callback's query and the cookie's sealed value: the code redeemed, once, or why not. */
  async finish(query: Record<string, unknown>, sealed: string | undefined): Promise<CallbackOutcome> {
    const pending = this.#open(sealed);
    if (!pending) return { status: 'refused', reason: 'no sign-in of this browser is waiting' };
    const state = typeof query.state === 'string' ? query.state : '';
    if (!sameText(state, pending.state)) return { status: 'refused', reason: 'state mismatch' };
    if (typeof query.error === 'string') return { status: 'denied', error: query.error };
    if (typeof query.code !== 'string' || query.code.length > 512)
      return { status: 'refused', reason: 'no code' };
    const provider = this.#provider();
    const code = await provider.AuthorizationCode.find(query.code);
    if (
      !code?.isValid ||
      code.clientId !== ACCOUNT_CLIENT_ID ||
      code.redirectUri !== accountCallbackUrl(this.#issuer) ||
      code.codeChallengeMethod !== 'S256' ||
      typeof code.codeChallenge !== 'string' ||
      !sameText(code.codeChallenge, base64url(createHash('sha256').update(pending.verifier).digest()))
    )
      return { status: 'refused', reason: 'unknown, spent or foreign code' };
    try {
      await code.consume(); // single use, decided by the database (src/oidc/postgres-adapter.ts)
    } catch {
      return { status: 'refused', reason: 'code already used' };
    }
    if (!code.accountId || !code.sessionUid || typeof code.authTime !== 'number')
      return { status: 'refused', reason: 'the code names no session' };
    return {
      status: 'signed-in',
      signedIn: {
        sub: code.accountId,
        sessionUid: code.sessionUid,
        authTime: new Date(code.authTime * 1000),
        amr: Array.isArray(code.amr) ? code.amr.map(String) : [],
        returnTo: pending.returnTo,
      },
    };
  }

  #open(sealed: string | undefined): PendingSignIn | undefined {
    if (!sealed) return undefined;
    let pending: PendingSignIn;
    try {
      pending = JSON.parse(this.#box.open(sealed, SEALING_CONTEXT)) as PendingSignIn;
    } catch {
      return undefined;
    }
    return pending.expires > this.#now().getTime() ? pending : undefined;
  }
}
