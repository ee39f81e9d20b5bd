import { createHash } from 'node:crypto';
import { preconditionFailed } from '../observability/errors.ts';

/**
 * A strong ETag for an entity as stored: a hash of its canonical JSON (sealed secrets included as
 * ciphertext, so a new secret is a new version; the hash reveals nothing of it).
 */
export function entityTag(stored: unknown): string {
  const digest = createHash('sha256').update(canonicalJson(stored)).digest('base64url');
  return `"${digest.slice(0, 27)}"`;
}

/**
 * Throws a 412 (preconditionFailed) unless `ifMatch` (an If-Match header: `*` or a list of ETags)
 * names the current version. Undefined means the caller sent none, which the HTTP layer has ruled on.
 */
export function assertCurrentVersion(current: string, ifMatch: string | undefined, what: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const offered = ifMatch.split(',').map((tag) => tag.trim());
  // RFC 9110 §13.1.1: If-Match compares strongly, so weak tags never match.
  if (!offered.includes(current))
    throw preconditionFailed(
      `${what} was changed by someone else since you read it (If-Match ${ifMatch} is not the current ETag ${current}): read it again and reapply your change`,
    );
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item) && !(item instanceof Date)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
