import type { Queryable } from './pool.ts';

/**
 * Every PostgreSQL advisory lock Lock takes, in one place so that no two uses share an id by
 * accident. Any fixed 64-bit numbers do: every Lock process agrees on them.
 */
export const ADVISORY_LOCKS = {
  /** Held for a whole migration run: processes starting together on an empty database wait in turn. */
  migrations: 0x10c4_0001,
  /** Signing-key generation and rotation: every process may try at once, one makes the keys. */
  signingKeys: 0x10c4_0002,
  /** Catalog writes (admin API, CLI, declarative apply): a check made in the transaction still holds at commit. */
  catalogWrite: 0x10c4_0003,
  /** Creating or repairing the bootstrap `admin` account: two first starts create it once. */
  bootstrapAdmin: 0x10c4_0004,
  /** Pruning expired rows: tried, not waited for; a process that finds it taken skips its run. */
  pruning: 0x4c6f636b_0021, // "Lock" + the migration that added pruning
} as const;

export type AdvisoryLock = (typeof ADVISORY_LOCKS)[keyof typeof ADVISORY_LOCKS];

/** Waits for `lock` and holds it until the transaction `db` is in ends. */
export async function holdTransactionLock(db: Queryable, lock: AdvisoryLock): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [lock]);
}

/** Takes `lock` for the rest of the transaction if it is free; false when another holds it. */
export async function tryTransactionLock(db: Queryable, lock: AdvisoryLock): Promise<boolean> {
  const { rows } = await db.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [
    lock,
  ]);
  return rows[0]?.locked === true;
}

/** Waits for `lock` on this session (not a transaction); release it with `releaseSessionLock`. */
export async function holdSessionLock(db: Queryable, lock: AdvisoryLock): Promise<void> {
  await db.query('SELECT pg_advisory_lock($1)', [lock]);
}

export async function releaseSessionLock(db: Queryable, lock: AdvisoryLock): Promise<void> {
  await db.query('SELECT pg_advisory_unlock($1)', [lock]);
}
