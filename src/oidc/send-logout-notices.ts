import type pg from 'pg';
import { loadCatalog } from '../catalog/catalog.ts';
import { computeKeySet } from '../keys/key-set.ts';
import { openPrivateJwk } from '../keys/signing-keys.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { listSigningKeys } from '../store/signing-keys.ts';
import {
  BackchannelLogout,
  type DeliveryOutcome,
  type LogoutNotice,
  recordDeliveryOutcome,
} from './backchannel-logout.ts';

/**
 * Sends logout tokens from a process that runs no server (the CLI): the catalog and the signing key
 * read once, the same bounded queue, and a wait until every delivery has ended (at most the
 * attempts' timeouts and pauses). Returns how many ended how.
 */
export async function sendLogoutNotices(
  pool: pg.Pool,
  box: SecretBox,
  options: { issuer: string; kekSource: string },
  notices: readonly LogoutNotice[],
): Promise<Record<DeliveryOutcome, number>> {
  const counts: Record<DeliveryOutcome, number> = { delivered: 0, refused: 0, failed: 0, dropped: 0 };
  if (notices.length === 0) return counts;
  const [catalog, storedKeys] = await Promise.all([
    loadCatalog(pool, box, options.issuer),
    listSigningKeys(pool),
  ]);
  const signing = computeKeySet(storedKeys, new Date(), 0).signing;
  const audits: Promise<void>[] = [];
  const queue = new BackchannelLogout({
    issuer: options.issuer,
    client: (clientId) => catalog.clients.get(clientId),
    signingKey: (alg) => {
      const key = signing.get(alg);
      return key && { kid: key.kid, alg, privateJwk: openPrivateJwk(key, box, options.kekSource) };
    },
    onOutcome: (notice, outcome, detail) => {
      counts[outcome]++;
      audits.push(recordDeliveryOutcome(pool, notice, outcome, detail));
    },
  });
  queue.notify(notices);
  await queue.idle();
  await Promise.all(audits);
  return counts;
}
