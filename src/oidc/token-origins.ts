import { findPayload, upsertPayload } from '../store/oidc-payloads.ts';
import type { Queryable } from '../store/pool.ts';

/**
 * Where an access token oidc-provider cannot trace comes from. JWT access tokens are not stored at
 * all, and a token minted by token exchange has no grant of its own; to honour a revoked grant or a
 * disabled account when such a token is presented for exchange, Lock records, per `jti`, the
 * grant and account it descends from — or, for a chain that began with client credentials, the
 * client. Stored beside oidc-provider's rows (model `TokenOrigin`): it expires with the token, goes
 * with its grant (a reuse) and with the account's sessions (an admin ending them).
 */
export type TokenOrigin = { grantId: string; accountId: string } | { clientId: string };

const MODEL = 'TokenOrigin';

export async function recordTokenOrigin(
  db: Queryable,
  jti: string,
  origin: TokenOrigin,
  expiresIn: number,
): Promise<void> {
  await upsertPayload(db, {
    model: MODEL,
    id: jti,
    payload: origin,
    grantId: 'grantId' in origin ? origin.grantId : null,
    userCode: null,
    uid: null,
    expiresIn: Math.max(1, expiresIn),
  });
}

export async function findTokenOrigin(db: Queryable, jti: string): Promise<TokenOrigin | undefined> {
  const row = await findPayload(db, MODEL, jti);
  if (!row) return undefined;
  const { grantId, accountId, clientId } = row.payload;
  if (typeof grantId === 'string' && typeof accountId === 'string') return { grantId, accountId };
  if (typeof clientId === 'string') return { clientId };
  return undefined;
}
