import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: what a mailed link carries. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A new link token and the SHA-256 that is stored instead of it. */
export function newLinkToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

/** The stored form of a presented token; undefined when it cannot be one of Lock's (no lookup then). */
export function linkTokenHash(token: string): Buffer | undefined {
  return TOKEN.test(token) ? sha256(token) : undefined;
}

/** What a reset link is bound to: the password hash it replaces, itself hashed (no hash is copied). */
export function passwordBinding(passwordHash: string): Buffer {
  return sha256(`password-reset binding v1:${passwordHash}`);
}

export function sameBinding(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
