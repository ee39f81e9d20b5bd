import { readFileSync } from 'node:fs';
import { argon2id, hash, needsRehash, verify } from 'argon2';
import { ENV_DEFAULTS } from '../config/defaults.ts';

/** argon2id at OWASP's first choice, as measured in docs/passwords.md: about 19 ms per verify on a 2-core server. */
export const PASSWORD_HASH_PARAMETERS = {
  type: argon2id,
  memoryCost: 19_456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

export const PASSWORD_MIN_LENGTH = 8;
/** In code points; far above the 64 that ASVS asks for, low enough to bound the work per request. */
export const PASSWORD_MAX_LENGTH = 1024;

/** A hash of a random, discarded password, made with PASSWORD_HASH_PARAMETERS (a test keeps them equal). */
export const DUMMY_HASH =
  '$argon2id$v=19$m=19456,p=1,t=2$DhH1uloY3kaNytSBzBSWwA$rn0DsLtN9H07F7Faysn9uEKOJB63HkSZavkM0yf8QBs';

export class PasswordHashFormatError extends Error {
  override name = 'PasswordHashFormatError';
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_HASH_PARAMETERS);
}

/**
 * Checks the password exactly as typed (no trimming, case folding or Unicode normalisation).
 * `needsRehash` says the hash was made with other parameters or another argon2 variant: store a
 * fresh hashPassword() of the password that just proved valid.
 */
export async function verifyPassword(
  storedHash: string,
  password: string,
): Promise<{ valid: boolean; needsRehash: boolean }> {
  let matches: boolean;
  try {
    matches = await verify(storedHash, password);
  } catch {
    // The hash is deliberately left out of the message: it must never reach a log.
    throw new PasswordHashFormatError('the stored password hash is not a valid argon2 hash');
  }
  return {
    // Text with a lone surrogate encodes to the same bytes as U+FFFD: never let it stand in for one.
    valid: matches && password.isWellFormed(),
    needsRehash: !storedHash.startsWith('$argon2id$') || needsRehash(storedHash, PASSWORD_HASH_PARAMETERS),
  };
}

/** Costs what a wrong password costs, so an unknown username cannot be told apart by timing. */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verify(DUMMY_HASH, password);
  return false;
}

/** The password verifier is saturated: the sign-in is refused before any work, to be retried shortly. */
export class PasswordVerifyBusy extends Error {
  override name = 'PasswordVerifyBusy';
  /** Seconds after which a retry has a fair chance (the `Retry-After` header). */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('too many password verifications are waiting');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * A bound on the argon2 verifies one process runs at once, with a bounded queue: an anonymous flood
 * of password posts costs at most `concurrency` verifies in flight and `queue` waiting, and what
 * comes beyond is refused at once (PasswordVerifyBusy) instead of making everyone's sign-in slow.
 */
export class PasswordVerifyGate {
  readonly concurrency: number;
  readonly queue: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(limits: { concurrency: number; queue: number }) {
    this.concurrency = limits.concurrency;
    this.queue = limits.queue;
  }

  /** No place left, not even in the queue: a new sign-in would be refused. */
  get saturated(): boolean {
    return this.#running >= this.concurrency && this.#waiting.length >= this.queue;
  }

  /** Roughly how long the queue takes to drain, in whole seconds (at least 1). */
  get retryAfterSeconds(): number {
    const verifyMs = 50; // a verify on a busy two-core machine, generously
    return Math.max(1, Math.ceil(((this.#waiting.length + 1) * verifyMs) / this.concurrency / 1000));
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.queue) throw new PasswordVerifyBusy(this.retryAfterSeconds);
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next)
        next(); // the place passes straight to the next in line
      else this.#running--;
    }
  }

  verifyPassword(storedHash: string, password: string): Promise<{ valid: boolean; needsRehash: boolean }> {
    return this.run(() => verifyPassword(storedHash, password));
  }

  verifyAgainstDummy(password: string): Promise<false> {
    return this.run(() => verifyAgainstDummy(password));
  }
}

/** The verify gate's bounds when no environment sets them (see LOCK_PASSWORD_VERIFY_* in defaults.ts). */
export const DEFAULT_PASSWORD_VERIFY_LIMITS = {
  concurrency: ENV_DEFAULTS.LOCK_PASSWORD_VERIFY_CONCURRENCY,
  queue: ENV_DEFAULTS.LOCK_PASSWORD_VERIFY_QUEUE,
} as const;

export type PasswordPolicyResult = { ok: true } | { ok: false; reason: string };

/** For a password being set (never at login): length in code points and a common-password list; no composition rules. */
export function checkPasswordPolicy(password: string): PasswordPolicyResult {
  if (!password.isWellFormed()) return refuse('password is not valid Unicode text');
  const length = codePointLength(password, PASSWORD_MAX_LENGTH);
  if (length < PASSWORD_MIN_LENGTH)
    return refuse(`password must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (length > PASSWORD_MAX_LENGTH)
    return refuse(`password must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  if (isCommonPassword(password)) return refuse('password is one of the most commonly used passwords');
  if (isRunOfOneStep(password))
    return refuse('password is one character repeated or a simple sequence such as "abcdefgh"');
  return { ok: true };
}

const refuse = (reason: string): PasswordPolicyResult => ({ ok: false, reason });

function codePointLength(text: string, stopAfter: number): number {
  let count = 0;
  for (const _ of text) if (++count > stopAfter) break;
  return count;
}

let commonPasswords: Set<string> | undefined;

function isCommonPassword(password: string): boolean {
  commonPasswords ??= loadCommonPasswords();
  // Case variants of a listed password are the first guesses of any cracking tool.
  return commonPasswords.has(password) || commonPasswords.has(password.toLowerCase());
}

function loadCommonPasswords(): Set<string> {
  const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
  return new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')));
}

// zxcvbn, where the list comes from, left out runs like "aaaaaaaa" or "87654321" because it catches
// them by pattern instead: refuse them here so that the list's gap does not become ours.
function isRunOfOneStep(password: string): boolean {
  const points = Array.from(password, (character) => character.codePointAt(0) ?? 0);
  const step = (points[1] ?? 0) - (points[0] ?? 0);
  if (Math.abs(step) > 1) return false;
  return points.every((point, index) => index === 0 || point - (points[index - 1] ?? 0) === step);
}
