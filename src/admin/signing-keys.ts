import type { JWK } from 'jose';
import type pg from 'pg';
import { z } from 'zod';
import { computeKeySet, type KeyState } from '../keys/key-set.ts';
import { addNextSigningKeys } from '../keys/signing-keys.ts';
import { SIGNING_ALGS } from '../model/signing-alg.ts';
import type { SecretBox } from '../security/secret-box.ts';
import { tx } from '../store/pool.ts';
import { listSigningKeys } from '../store/signing-keys.ts';
import { type AdminActor, recordAdminChange } from './admin-actor.ts';
import { parseInput } from './validation.ts';

/** Admin operations on signing keys: the public side only, ever. */

export interface SigningKeyView {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: Date;
  activatesAt: Date;
  /** Retired keys: when they leave the JWKS. */
  unpublishAt?: Date;
  publicJwk: JWK;
}

export const rotationInputSchema = z.strictObject({
  algs: z.array(z.enum(SIGNING_ALGS)).min(1).optional(),
});

/** The published keys with their state, derived from time as every process derives it. */
export async function listSigningKeyViews(
  pool: pg.Pool,
  options: { now: Date; retentionSeconds: number },
): Promise<SigningKeyView[]> {
  const keySet = computeKeySet(await listSigningKeys(pool), options.now, options.retentionSeconds);
  return keySet.published.map(({ key, state, unpublishAt }) => ({
    kid: key.kid,
    alg: key.alg,
    state,
    createdAt: key.createdAt,
    activatesAt: key.activatesAt,
    ...(unpublishAt !== undefined && { unpublishAt }),
    publicJwk: key.publicJwk,
  }));
}

/** Adds the next keys (all algorithms, or those named): published now, signing after the JWKS cache time. */
export async function rotateKeys(
  pool: pg.Pool,
  box: SecretBox,
  input: unknown,
  options: { now: Date; prepublishSeconds: number },
  by: AdminActor,
) {
  const { algs } = parseInput(rotationInputSchema, input ?? {});
  return tx(pool, async (db) => {
    const added = await addNextSigningKeys(db, box, { ...options, ...(algs && { algs }) });
    await recordAdminChange(db, by, {
      type: 'admin.keys.rotated',
      subject: added.map((key) => key.kid).join(' '),
      details: { added },
    });
    return added;
  });
}
