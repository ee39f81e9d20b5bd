// Passkeys (WebAuthn credentials) of local accounts and the challenges of their ceremonies
// (migration 0030_passkeys.sql). Public keys only: a passkey's private key never leaves its authenticator.
import type { Queryable } from './pool.ts';

export interface StoredPasskey {
  id: string;
  userId: string;
  /** base64url, as WebAuthn hands it over. */
  credentialId: string;
  /** COSE public key. */
  publicKey: Uint8Array;
  signCount: number;
  transports: string[];
  aaguid: string;
  /** BE: the key may be synced between devices. */
  backupEligible: boolean;
  /** BS: it is (as the authenticator last said). */
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt?: Date;
}

export type NewPasskey = Omit<StoredPasskey, 'id' | 'createdAt' | 'lastUsedAt'>;

interface PasskeyRow {
  id: string;
  user_id: string;
  credential_id: string;
  public_key: Buffer;
  sign_count: string;
  transports: string[];
  aaguid: string;
  backup_eligible: boolean;
  backed_up: boolean;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

const COLUMNS =
  'id, user_id, credential_id, public_key, sign_count, transports, aaguid, backup_eligible, backed_up, name, created_at, last_used_at';

const toPasskey = (row: PasskeyRow): StoredPasskey => ({
  id: row.id,
  userId: row.user_id,
  credentialId: row.credential_id,
  publicKey: new Uint8Array(row.public_key),
  signCount: Number(row.sign_count),
  transports: row.transports,
  aaguid: row.aaguid,
  backupEligible: row.backup_eligible,
  backedUp: row.backed_up,
  name: row.name,
  createdAt: row.created_at,
  ...(row.last_used_at !== null && { lastUsedAt: row.last_used_at }),
});

/** Stores a registered passkey; undefined when its credential id is registered already (to anyone). */
export async function insertPasskey(db: Queryable, passkey: NewPasskey): Promise<StoredPasskey | undefined> {
  const { rows } = await db.query<PasskeyRow>(
    `INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, transports, aaguid,
                           backup_eligible, backed_up, name)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (credential_id) DO NOTHING RETURNING ${COLUMNS}`,
    [
      passkey.userId,
      passkey.credentialId,
      Buffer.from(passkey.publicKey),
      passkey.signCount,
      passkey.transports,
      passkey.aaguid,
      passkey.backupEligible,
      passkey.backedUp,
      passkey.name,
    ],
  );
  return rows[0] && toPasskey(rows[0]);
}

export async function findPasskeyByCredentialId(
  db: Queryable,
  credentialId: string,
): Promise<StoredPasskey | undefined> {
  const { rows } = await db.query<PasskeyRow>(`SELECT ${COLUMNS} FROM passkeys WHERE credential_id = $1`, [
    credentialId,
  ]);
  return rows[0] && toPasskey(rows[0]);
}

export async function listPasskeys(db: Queryable, userId: string): Promise<StoredPasskey[]> {
  const { rows } = await db.query<PasskeyRow>(
    `SELECT ${COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`,
    [userId],
  );
  return rows.map(toPasskey);
}

export async function countPasskeys(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM passkeys WHERE user_id = $1',
    [userId],
  );
  return rows[0]!.n;
}

/**
 * Records a use: the new counter and backup state, only if the counter moved forward (or the
 * authenticator keeps none: 0 then 0). False when another use got there first or the counter went
 * backwards (a cloned authenticator), or the passkey was removed meanwhile.
 */
export async function recordPasskeyUse(
  db: Queryable,
  use: { id: string; seenCount: number; newCount: number; backedUp: boolean; at: Date },
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE passkeys SET sign_count = $3, backed_up = $4, last_used_at = $5
     WHERE id = $1 AND sign_count = $2 AND ($3 > sign_count OR ($3 = 0 AND sign_count = 0))
     RETURNING id`,
    [use.id, use.seenCount, use.newCount, use.backedUp, use.at],
  );
  return rows.length === 1;
}

/** Renames one of `userId`'s passkeys; false when it has none with that id. */
export async function renamePasskey(
  db: Queryable,
  userId: string,
  id: string,
  name: string,
): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE passkeys SET name = $3 WHERE user_id = $1 AND id = $2', [
    userId,
    id,
    name,
  ]);
  return rowCount === 1;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Removes one of `userId`'s passkeys: the removed row, or undefined when it has none with that id. */
export async function deletePasskey(
  db: Queryable,
  userId: string,
  id: string,
): Promise<StoredPasskey | undefined> {
  // An id from a URL that is no uuid names no passkey (rather than a PostgreSQL cast error).
  if (!UUID.test(id)) return undefined;
  const { rows } = await db.query<PasskeyRow>(
    `DELETE FROM passkeys WHERE user_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [userId, id],
  );
  return rows[0] && toPasskey(rows[0]);
}

/** Removes every passkey of `userId` (an admin's reset): the names of those removed. */
export async function deleteAllPasskeys(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    'DELETE FROM passkeys WHERE user_id = $1 RETURNING name',
    [userId],
  );
  return rows.map((row) => row.name);
}

export type ChallengePurpose = 'sign-in' | 'second-factor' | 'registration';

/** A challenge handed out for one ceremony, bound to an interaction or an account session. */
export interface ChallengeGrant {
  challenge: string;
  purpose: ChallengePurpose;
  binding: string;
  userId?: string;
  expiresAt: Date;
}

export async function insertChallenge(db: Queryable, grant: ChallengeGrant): Promise<void> {
  await db.query(
    `INSERT INTO webauthn_challenges (challenge, purpose, binding, user_id, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [grant.challenge, grant.purpose, grant.binding, grant.userId ?? null, grant.expiresAt],
  );
}

/**
 * Takes a challenge once: the one conditional UPDATE decides, so of two requests presenting the
 * same challenge only one gets it back. Undefined when it is unknown, spent, expired, or was
 * issued for another purpose, binding or account.
 */
export async function consumeChallenge(
  db: Queryable,
  presented: { challenge: string; purpose: ChallengePurpose; binding: string; userId?: string },
  now: Date,
): Promise<{ userId?: string } | undefined> {
  const { rows } = await db.query<{ user_id: string | null }>(
    `UPDATE webauthn_challenges SET consumed_at = $5
     WHERE challenge = $1 AND purpose = $2 AND binding = $3 AND user_id IS NOT DISTINCT FROM $4::uuid
       AND consumed_at IS NULL AND expires_at > $5
     RETURNING user_id`,
    [presented.challenge, presented.purpose, presented.binding, presented.userId ?? null, now],
  );
  const row = rows[0];
  return row && (row.user_id === null ? {} : { userId: row.user_id });
}
