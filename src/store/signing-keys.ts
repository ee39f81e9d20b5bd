import type { JWK } from 'jose';
import type { SigningAlg } from '../model/signing-alg.ts';
import type { Queryable } from './pool.ts';

export interface StoredSigningKey {
  kid: string;
  alg: SigningAlg;
  publicJwk: JWK;
  /** The private JWK sealed under the key-encryption key. */
  sealedPrivateJwk: string;
  createdAt: Date;
  activatesAt: Date;
}

interface SigningKeyRow {
  kid: string;
  alg: SigningAlg;
  public_jwk: JWK;
  private_jwk: string;
  created_at: Date;
  activates_at: Date;
}

const toKey = (row: SigningKeyRow): StoredSigningKey => ({
  kid: row.kid,
  alg: row.alg,
  publicJwk: row.public_jwk,
  sealedPrivateJwk: row.private_jwk,
  createdAt: row.created_at,
  activatesAt: row.activates_at,
});

export async function listSigningKeys(db: Queryable): Promise<StoredSigningKey[]> {
  const { rows } = await db.query<SigningKeyRow>(
    'SELECT kid, alg, public_jwk, private_jwk, created_at, activates_at FROM signing_keys ORDER BY alg, activates_at DESC, kid',
  );
  return rows.map(toKey);
}

export async function insertSigningKey(
  db: Queryable,
  key: Omit<StoredSigningKey, 'createdAt'>,
): Promise<void> {
  await db.query(
    'INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, activates_at) VALUES ($1, $2, $3, $4, $5)',
    [key.kid, key.alg, key.publicJwk, key.sealedPrivateJwk, key.activatesAt],
  );
}

export async function deleteSigningKeys(db: Queryable, kids: string[]): Promise<void> {
  if (kids.length > 0) await db.query('DELETE FROM signing_keys WHERE kid = ANY($1)', [kids]);
}
