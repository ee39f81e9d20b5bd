import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type pg from 'pg';
import { SIGNING_ALGS, type SigningAlg } from '../model/signing-alg.ts';
import { KeyEncryptionKeyError, type SecretBox } from '../security/secret-box.ts';
import { ADVISORY_LOCKS, holdTransactionLock } from '../store/advisory-locks.ts';
import { notifyChange } from '../store/change-feed.ts';
import { tx } from '../store/pool.ts';
import { insertSigningKey, listSigningKeys, type StoredSigningKey } from '../store/signing-keys.ts';

const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;

const sealContext = (kid: string) => `signing_key:${kid}`;

export async function generateSigningKey(alg: SigningAlg, box: SecretBox, activatesAt: Date) {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'RS256' ? { modulusLength: 2048 } : alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk, 'sha256');
  const publicJwk: JWK = { kid, alg, use: 'sig' };
  for (const member of PUBLIC_MEMBERS)
    if (privateJwk[member] !== undefined) publicJwk[member] = privateJwk[member];
  return {
    kid,
    alg,
    publicJwk,
    sealedPrivateJwk: box.seal(JSON.stringify({ ...privateJwk, kid, alg, use: 'sig' }), sealContext(kid)),
    activatesAt,
  };
}

/** Opens a stored private key; a KEK other than the one it was sealed under is a start-up error. */
export function openPrivateJwk(key: StoredSigningKey, box: SecretBox, kekSource: string): JWK {
  try {
    return JSON.parse(box.open(key.sealedPrivateJwk, sealContext(key.kid))) as JWK;
  } catch {
    throw new KeyEncryptionKeyError(
      `cannot decrypt signing keys with the key in ${kekSource} (key ${key.kid}): is this the key-encryption key this database was set up with?`,
    );
  }
}

/** Fails fast, before anything else reads a secret, when the KEK is not the one the database was sealed under. */
export async function assertKeyEncryptionKeyMatches(
  pool: pg.Pool,
  box: SecretBox,
  kekSource: string,
): Promise<void> {
  const [newest] = (await listSigningKeys(pool)).toSorted(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime(),
  );
  if (newest) openPrivateJwk(newest, box, kekSource);
}

/** First start: every algorithm gets a key that signs at once (nobody can have cached a JWKS yet). */
export async function ensureSigningKeys(pool: pg.Pool, box: SecretBox, now: Date): Promise<string[]> {
  return tx(pool, async (client) => {
    await holdTransactionLock(client, ADVISORY_LOCKS.signingKeys);
    const existing = await listSigningKeys(client);
    const created: string[] = [];
    for (const alg of SIGNING_ALGS) {
      if (existing.some((key) => key.alg === alg)) continue;
      const key = await generateSigningKey(alg, box, now);
      await insertSigningKey(client, key);
      created.push(key.kid);
    }
    if (created.length > 0) await notifyChange(client, 'keys');
    return created;
  });
}

/**
 * Adds a next key per algorithm, published now and signing once `prepublishSeconds` (the JWKS cache
 * lifetime) have passed, so that no verifier meets a kid it has not had the chance to fetch.
 */
export async function rotateSigningKeys(
  pool: pg.Pool,
  box: SecretBox,
  options: RotationOptions,
): Promise<AddedSigningKey[]> {
  return tx(pool, (client) => addNextSigningKeys(client, box, options));
}

export interface RotationOptions {
  now: Date;
  prepublishSeconds: number;
  algs?: readonly SigningAlg[];
}

export interface AddedSigningKey {
  kid: string;
  alg: SigningAlg;
  activatesAt: Date;
}

/** rotateSigningKeys inside a transaction the caller holds (e.g. with its audit event). */
export async function addNextSigningKeys(
  client: pg.PoolClient,
  box: SecretBox,
  options: RotationOptions,
): Promise<AddedSigningKey[]> {
  const activatesAt = new Date(options.now.getTime() + options.prepublishSeconds * 1000);
  await holdTransactionLock(client, ADVISORY_LOCKS.signingKeys);
  const added = [];
  for (const alg of options.algs ?? SIGNING_ALGS) {
    const key = await generateSigningKey(alg, box, activatesAt);
    await insertSigningKey(client, key);
    added.push({ kid: key.kid, alg, activatesAt });
  }
  await notifyChange(client, 'keys');
  return added;
}

/**
 * Automatic rotation: an algorithm whose newest key started signing `intervalSeconds` ago, and
 * that has no next key yet, gets one (published now, signing after `prepublishSeconds`). Safe to
 * call from every process at once: the advisory lock and the re-read inside it make one winner.
 */
export async function rotateIfDue(
  pool: pg.Pool,
  box: SecretBox,
  options: { now: Date; intervalSeconds: number; prepublishSeconds: number },
): Promise<AddedSigningKey[]> {
  if (options.intervalSeconds <= 0) return [];
  const due = (keys: StoredSigningKey[]) =>
    SIGNING_ALGS.filter((alg) => {
      const newest = keys
        .filter((key) => key.alg === alg)
        .toSorted((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime())[0];
      return (
        newest !== undefined &&
        newest.activatesAt.getTime() <= options.now.getTime() - options.intervalSeconds * 1000
      );
    });
  if (due(await listSigningKeys(pool)).length === 0) return [];
  return tx(pool, async (client) => {
    await holdTransactionLock(client, ADVISORY_LOCKS.signingKeys);
    const algs = due(await listSigningKeys(client));
    if (algs.length === 0) return [];
    return addNextSigningKeys(client, box, {
      now: options.now,
      prepublishSeconds: options.prepublishSeconds,
      algs,
    });
  });
}
