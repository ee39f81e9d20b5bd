import { hkdfSync } from 'node:crypto';

/**
 * A 32-byte key for one purpose (cookie signing, CSRF tokens), derived from the key-encryption key:
 * the same in every Lock process, never stored, and useless for any other purpose.
 */
export function deriveKey(kek: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, 'lock', purpose, 32));
}
