import type { SigningAlg } from '../model/signing-alg.ts';
import type { StoredSigningKey } from '../store/signing-keys.ts';

export type KeyState = 'signing' | 'next' | 'retired';

export interface KeyStatus {
  key: StoredSigningKey;
  state: KeyState;
  /** For retired keys: when the last token it signed has expired and every cached JWKS has refreshed. */
  unpublishAt?: Date;
}

export interface KeySet {
  /** The key each algorithm signs with now. */
  signing: Map<SigningAlg, StoredSigningKey>;
  /** Signing keys first (oidc-provider signs with the first key of an alg), then next, then retired. */
  published: KeyStatus[];
  /** Keys whose retention has run out: no longer published, safe to delete. */
  expired: StoredSigningKey[];
  /** When this set changes by the clock alone (a next key activates, a retired key expires). */
  changesAt: Date | null;
}

/**
 * Derives each key's state from time alone, so every process on the database agrees without
 * coordination: a key is published from its creation, signs from `activatesAt` until a newer key
 * of its algorithm activates, and stays published `retentionSeconds` after that.
 */
export function computeKeySet(keys: StoredSigningKey[], now: Date, retentionSeconds: number): KeySet {
  const signing = new Map<SigningAlg, StoredSigningKey>();
  const next: KeyStatus[] = [];
  const retired: KeyStatus[] = [];
  const expired: StoredSigningKey[] = [];
  const changes: number[] = [];
  const byAlg = Map.groupBy(keys, (key) => key.alg);
  for (const [alg, algKeys] of byAlg) {
    const newestFirst = algKeys.toSorted((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime());
    let successor: StoredSigningKey | undefined;
    for (const key of newestFirst) {
      if (key.activatesAt > now) {
        next.push({ key, state: 'next' });
        changes.push(key.activatesAt.getTime());
      } else if (!signing.has(alg)) {
        signing.set(alg, key);
      } else {
        const unpublishAt = new Date(successor!.activatesAt.getTime() + retentionSeconds * 1000);
        if (unpublishAt > now) {
          retired.push({ key, state: 'retired', unpublishAt });
          changes.push(unpublishAt.getTime());
        } else {
          expired.push(key);
        }
      }
      successor = key;
    }
  }
  const active: KeyStatus[] = [...signing.values()].map((key) => ({ key, state: 'signing' }));
  return {
    signing,
    published: [...active, ...next, ...retired],
    expired,
    changesAt: changes.length > 0 ? new Date(Math.min(...changes)) : null,
  };
}
