// TOTP credentials, recovery codes and sign-ins waiting for their second factor (migration
// 0010_totp.sql). Secrets arrive here sealed and recovery codes hashed: this module sees neither.
import type { Queryable } from './pool.ts';

export interface TotpCredential {
  userId: string;
  secretSealed: string;
  lastUsedStep: number;
  confirmedAt: Date;
}

export async function findTotpCredential(db: Queryable, userId: string): Promise<TotpCredential | undefined> {
  const { rows } = await db.query<{
    user_id: string;
    secret_sealed: string;
    last_used_step: string;
    confirmed_at: Date;
  }>('SELECT user_id, secret_sealed, last_used_step, confirmed_at FROM totp_credentials WHERE user_id = $1', [
    userId,
  ]);
  const row = rows[0];
  return (
    row && {
      userId: row.user_id,
      secretSealed: row.secret_sealed,
      lastUsedStep: Number(row.last_used_step),
      confirmedAt: row.confirmed_at,
    }
  );
}

/** Stores a confirmed credential; false (and nothing changed) when the user already has one. */
export async function insertTotpCredential(db: Queryable, credential: TotpCredential): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO totp_credentials (user_id, secret_sealed, last_used_step, confirmed_at)
     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO NOTHING`,
    [credential.userId, credential.secretSealed, credential.lastUsedStep, credential.confirmedAt],
  );
  return rowCount === 1;
}

/**
 * Accepts a code of `step` once: true when the step is later than the last accepted one (and is
 * now the last), false for a replay. One statement, so two processes cannot both accept it.
 */
export async function acceptTotpStep(db: Queryable, userId: string, step: number): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE totp_credentials SET last_used_step = $2 WHERE user_id = $1 AND last_used_step < $2',
    [userId, step],
  );
  return rowCount === 1;
}

/** Makes `codeHashes` the user's recovery codes, all unused. */
export async function replaceRecoveryCodes(
  db: Queryable,
  userId: string,
  codeHashes: string[],
): Promise<void> {
  await db.query('DELETE FROM totp_recovery_codes WHERE user_id = $1', [userId]);
  await db.query('INSERT INTO totp_recovery_codes (user_id, code_hash) SELECT $1, unnest($2::text[])', [
    userId,
    codeHashes,
  ]);
}

/** Spends a recovery code: true the first time, false after (or for no such code). Atomic. */
export async function useRecoveryCode(
  db: Queryable,
  userId: string,
  codeHash: string,
  now: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE totp_recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
    [userId, codeHash, now],
  );
  return rowCount === 1;
}

export async function countUnusedRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM totp_recovery_codes WHERE user_id = $1 AND used_at IS NULL',
    [userId],
  );
  return rows[0]!.n;
}

/** Removes the user's authenticator, recovery codes and waiting sign-ins; false when there was no authenticator. */
export async function deleteTotp(db: Queryable, userId: string): Promise<boolean> {
  await db.query('DELETE FROM pending_second_factors WHERE user_id = $1', [userId]);
  await db.query('DELETE FROM totp_recovery_codes WHERE user_id = $1', [userId]);
  const { rowCount } = await db.query('DELETE FROM totp_credentials WHERE user_id = $1', [userId]);
  return rowCount === 1;
}

export type PendingStage = 'verify' | 'enrol' | 'recovery-codes';

/** A sign-in whose password was right, waiting in interaction `interactionUid` for its second factor. */
export interface PendingSecondFactor {
  interactionUid: string;
  userId: string;
  sub: string;
  connector: string;
  username: string;
  stage: PendingStage;
  /** The secret shown for enrolment, sealed (stage `enrol` only). */
  enrolSecretSealed?: string;
  failures: number;
  expiresAt: Date;
}

interface PendingRow {
  interaction_uid: string;
  user_id: string;
  sub: string;
  connector: string;
  username: string;
  stage: PendingStage;
  enrol_secret_sealed: string | null;
  failures: number;
  expires_at: Date;
}

const PENDING_COLUMNS =
  'interaction_uid, user_id, sub, connector, username, stage, enrol_secret_sealed, failures, expires_at';

const toPending = (row: PendingRow): PendingSecondFactor => ({
  interactionUid: row.interaction_uid,
  userId: row.user_id,
  sub: row.sub,
  connector: row.connector,
  username: row.username,
  stage: row.stage,
  ...(row.enrol_secret_sealed !== null && { enrolSecretSealed: row.enrol_secret_sealed }),
  failures: row.failures,
  expiresAt: row.expires_at,
});

/** Starts (or restarts, after a new password) the second-factor step of an interaction; sweeps expired ones. */
export async function savePendingSecondFactor(
  db: Queryable,
  pending: Omit<PendingSecondFactor, 'failures'>,
  now: Date,
): Promise<void> {
  await db.query('DELETE FROM pending_second_factors WHERE expires_at <= $1', [now]);
  await db.query(
    `INSERT INTO pending_second_factors (${PENDING_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)
     ON CONFLICT (interaction_uid) DO UPDATE SET user_id = $2, sub = $3, connector = $4, username = $5,
       stage = $6, enrol_secret_sealed = $7, failures = 0, expires_at = $8`,
    [
      pending.interactionUid,
      pending.userId,
      pending.sub,
      pending.connector,
      pending.username,
      pending.stage,
      pending.enrolSecretSealed ?? null,
      pending.expiresAt,
    ],
  );
}

export async function findPendingSecondFactor(
  db: Queryable,
  interactionUid: string,
  now: Date,
): Promise<PendingSecondFactor | undefined> {
  const { rows } = await db.query<PendingRow>(
    `SELECT ${PENDING_COLUMNS} FROM pending_second_factors WHERE interaction_uid = $1 AND expires_at > $2`,
    [interactionUid, now],
  );
  return rows[0] && toPending(rows[0]);
}

/** Moves the step on (the enrolment secret is dropped: it now lives in totp_credentials). */
export async function setPendingStage(
  db: Queryable,
  interactionUid: string,
  stage: PendingStage,
): Promise<void> {
  await db.query(
    'UPDATE pending_second_factors SET stage = $2, enrol_secret_sealed = NULL WHERE interaction_uid = $1',
    [interactionUid, stage],
  );
}

/** Counts a wrong code; returns the interaction's count so far. */
export async function recordPendingFailure(db: Queryable, interactionUid: string): Promise<number> {
  const { rows } = await db.query<{ failures: number }>(
    'UPDATE pending_second_factors SET failures = failures + 1 WHERE interaction_uid = $1 RETURNING failures',
    [interactionUid],
  );
  return rows[0]?.failures ?? 0;
}

/** Ends the step; true when this call ended it (so that only one of two racing requests finishes). */
export async function deletePendingSecondFactor(db: Queryable, interactionUid: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM pending_second_factors WHERE interaction_uid = $1', [
    interactionUid,
  ]);
  return rowCount === 1;
}
