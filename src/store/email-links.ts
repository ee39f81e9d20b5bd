import type { Queryable } from './pool.ts';

/** What a mailed link does: set a new password, or verify (or change to) an email address. */
export type EmailLinkPurpose = 'password_reset' | 'verify_email' | 'change_email';

export interface NewEmailLink {
  /** SHA-256 of the token the mail carries; the token itself is never stored. */
  tokenHash: Buffer;
  purpose: EmailLinkPurpose;
  userId: string;
  /** password_reset: SHA-256 of the account's password hash when the link was made. */
  boundTo?: Buffer;
  /** verify_email / change_email: the address the link verifies. */
  address?: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface TakenEmailLink {
  purpose: EmailLinkPurpose;
  userId: string;
  boundTo: Buffer | null;
  address: string | null;
  expiresAt: Date;
}

interface LinkRow {
  purpose: EmailLinkPurpose;
  user_id: string;
  bound_to: Buffer | null;
  address: string | null;
  expires_at: Date;
}

const toLink = (row: LinkRow): TakenEmailLink => ({
  purpose: row.purpose,
  userId: row.user_id,
  boundTo: row.bound_to,
  address: row.address,
  expiresAt: row.expires_at,
});

export async function insertEmailLink(db: Queryable, link: NewEmailLink): Promise<void> {
  await db.query(
    `INSERT INTO email_links (token_hash, purpose, user_id, bound_to, address, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      link.tokenHash,
      link.purpose,
      link.userId,
      link.boundTo ?? null,
      link.address ?? null,
      link.createdAt,
      link.expiresAt,
    ],
  );
}

/** The unused, unexpired link of that purpose, without taking it (the page that shows its form). */
export async function peekEmailLink(
  db: Queryable,
  tokenHash: Buffer,
  purposes: EmailLinkPurpose[],
  now: Date,
): Promise<TakenEmailLink | undefined> {
  const { rows } = await db.query<LinkRow>(
    `SELECT purpose, user_id, bound_to, address, expires_at FROM email_links
     WHERE token_hash = $1 AND purpose = ANY ($2::text[]) AND used_at IS NULL AND expires_at > $3`,
    [tokenHash, purposes, now],
  );
  return rows[0] && toLink(rows[0]);
}

/**
 * Takes the link once: of any number of concurrent calls with one token, exactly one gets it (the
 * row is marked used by a single UPDATE … RETURNING). Expired or used links give undefined.
 */
export async function takeEmailLink(
  db: Queryable,
  tokenHash: Buffer,
  purposes: EmailLinkPurpose[],
  now: Date,
): Promise<TakenEmailLink | undefined> {
  const { rows } = await db.query<LinkRow>(
    `UPDATE email_links SET used_at = $3
     WHERE token_hash = $1 AND purpose = ANY ($2::text[]) AND used_at IS NULL AND expires_at > $3
     RETURNING purpose, user_id, bound_to, address, expires_at`,
    [tokenHash, purposes, now],
  );
  return rows[0] && toLink(rows[0]);
}

/** Marks every unused link of the account with those purposes used (e.g. after a reset). */
export async function retireEmailLinks(
  db: Queryable,
  userId: string,
  purposes: EmailLinkPurpose[],
  now: Date,
): Promise<void> {
  await db.query(
    `UPDATE email_links SET used_at = $3 WHERE user_id = $1 AND purpose = ANY ($2::text[]) AND used_at IS NULL`,
    [userId, purposes, now],
  );
}

/** Links of that purpose made for the account since `since` (used or not): the per-account limit. */
export async function countRecentEmailLinks(
  db: Queryable,
  userId: string,
  purpose: EmailLinkPurpose,
  since: Date,
): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM email_links WHERE user_id = $1 AND purpose = $2 AND created_at > $3',
    [userId, purpose, since],
  );
  return rows[0]!.n;
}
