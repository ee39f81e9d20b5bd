import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * CSRF tokens bound to one interaction: an HMAC of its uid under a key derived from the KEK, so
 * every Lock process can check what another one issued, and nothing is stored.
 */
export function createCsrf(key: Buffer) {
  const tokenFor = (uid: string) => createHmac('sha256', key).update(`csrf:${uid}`).digest('base64url');
  return {
    tokenFor,
    isValid(uid: string, presented: string | null): boolean {
      if (!presented) return false;
      const expected = Buffer.from(tokenFor(uid));
      const actual = Buffer.from(presented);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },
  };
}
