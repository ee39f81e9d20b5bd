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
 * now the last), false for a replay. The one conditional statement decides: of two requests racing
 * with the same code, PostgreSQL lets one update the row and re-checks the other against the new
 * value, so the loser reads as a replay.
 */
export async function acceptTotpStep(db: Queryable, userId: string, step: number): Promise<boolean> {
  const { rows } = await db.query(
    'UPDATE totp_credentials SET last_used_step = $2 WHERE user_id = $1 AND last_used_step < $2 RETURNING user_id',
    [userId, step],
  );
  return rows.length === 1;
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

/**
 * Spends a recovery code: true the first time, false after (or for no such code). The conditional
 * UPDATE decides, so of two requests racing with one code exactly one gets the row back.
 */
export async function useRecoveryCode(
  db: Queryable,
  userId: string,
  codeHash: string,
  now: Date,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE totp_recovery_codes SET used_at = $3
     WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING code_hash`,
    [userId, codeHash, now],
  );
  return rows.length === 1;
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
  /** Only a passkey may finish this step (the client or a role requires one): no code is taken. */
  passkeyOnly: boolean;
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
  passkey_only: boolean;
  failures: number;
  expires_at: Date;
}

const PENDING_COLUMNS =
  'interaction_uid, user_id, sub, connector, username, stage, enrol_secret_sealed, failures, expires_at, passkey_only';

const toPending = (row: PendingRow): PendingSecondFactor => ({
  interactionUid: row.interaction_uid,
  userId: row.user_id,
  sub: row.sub,
  connector: row.connector,
  username: row.username,
  stage: row.stage,
  ...(row.enrol_secret_sealed !== null && { enrolSecretSealed: row.enrol_secret_sealed }),
  passkeyOnly: row.passkey_only,
  failures: row.failures,
  expiresAt: row.expires_at,
});

/**
 * Which waiting sign-in a change is for: the interaction, the account that passed the first factor
 * in it, and the stage the caller saw. Every change matches all of them, so a change meant for one
 * account can never land on a row that now holds another (a second password posted meanwhile).
 */
export interface PendingKey {
  interactionUid: string;
  userId: string;
  sub: string;
  stage: PendingStage;
}

const keyParams = (key: PendingKey) => [key.interactionUid, key.userId, key.sub, key.stage];
const MATCHES_KEY = 'interaction_uid = $1 AND user_id = $2 AND sub = $3 AND stage = $4';

/**
 * Starts the second-factor step of an interaction; sweeps expired ones. False (and nothing
 * changed) when the interaction already has a step waiting: whose sign-in it is, is decided by the
 * first password only, until that step ends.
 */
export async function startPendingSecondFactor(
  db: Queryable,
  pending: Omit<PendingSecondFactor, 'failures'>,
  now: Date,
): Promise<boolean> {
  await db.query('DELETE FROM pending_second_factors WHERE expires_at <= $1', [now]);
  const { rows } = await db.query(
    `INSERT INTO pending_second_factors (${PENDING_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9)
     ON CONFLICT (interaction_uid) DO NOTHING RETURNING interaction_uid`,
    [
      pending.interactionUid,
      pending.userId,
      pending.sub,
      pending.connector,
      pending.username,
      pending.stage,
      pending.enrolSecretSealed ?? null,
      pending.expiresAt,
      pending.passkeyOnly,
    ],
  );
  return rows.length === 1;
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

/**
 * Moves the step from `key.stage` on to `to` (the enrolment secret is dropped: it now lives in
 * totp_credentials); false when the row no longer matches `key`.
 */
export async function advancePendingStage(
  db: Queryable,
  key: PendingKey,
  to: PendingStage,
): Promise<boolean> {
  const { rows } = await db.query(
    `UPDATE pending_second_factors SET stage = $5, enrol_secret_sealed = NULL
     WHERE ${MATCHES_KEY} RETURNING interaction_uid`,
    [...keyParams(key), to],
  );
  return rows.length === 1;
}

/** Counts a wrong code; the count so far, or undefined when the row no longer matches `key`. */
/**
 * Counts one code attempt of the step before the code is looked at (so concurrent guesses cannot
 * outrun the step's budget): the attempts so far, or undefined when the step no longer matches.
 */
export async function reservePendingAttempt(db: Queryable, key: PendingKey): Promise<number | undefined> {
  const { rows } = await db.query<{ failures: number }>(
    `UPDATE pending_second_factors SET failures = failures + 1 WHERE ${MATCHES_KEY} RETURNING failures`,
    keyParams(key),
  );
  return rows[0]?.failures;
}

/**
 * Ends the step, consuming its row: the row as it was, or undefined when it no longer matches
 * `key` or has expired. Of two racing requests only one gets it, and the sign-in that finishes is
 * the account of the row consumed here, never one read earlier.
 */
export async function consumePendingSecondFactor(
  db: Queryable,
  key: PendingKey,
  now: Date,
): Promise<PendingSecondFactor | undefined> {
  const { rows } = await db.query<PendingRow>(
    `DELETE FROM pending_second_factors WHERE ${MATCHES_KEY} AND expires_at > $5 RETURNING ${PENDING_COLUMNS}`,
    [...keyParams(key), now],
  );
  return rows[0] && toPending(rows[0]);
}

/** Locks the user's authenticator row for the transaction; rowCount 0 when there is none. */
export function lockTotpCredential(db: Queryable, userId: string) {
  return db.query('SELECT user_id FROM totp_credentials WHERE user_id = $1 FOR UPDATE', [userId]);
}
