import { randomUUID } from 'node:crypto';
import type { UpstreamIdentity } from '../model/upstream-identity.ts';
import type { Queryable } from './pool.ts';

export interface StoredIdentity extends UpstreamIdentity {
  sub: string;
  connector: string;
}

export interface IdentityRow {
  sub: string;
  connector: string;
  upstream_id: string;
  username: string;
  email: string | null;
  name: string | null;
  groups: string[];
  claims: Record<string, unknown>;
}

export const toIdentity = (row: IdentityRow): StoredIdentity => ({
  sub: row.sub,
  connector: row.connector,
  upstreamId: row.upstream_id,
  username: row.username,
  ...(row.email !== null && { email: row.email }),
  ...(row.name !== null && { name: row.name }),
  groups: row.groups,
  claims: row.claims,
});

/** Records a login and returns the identity with its `sub`, minted on the first login. */
export async function recordIdentity(
  db: Queryable,
  connector: string,
  identity: UpstreamIdentity,
): Promise<StoredIdentity> {
  const { rows } = await db.query<IdentityRow>(
    `INSERT INTO identities (sub, connector, upstream_id, username, email, name, groups, claims)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (connector, upstream_id) DO UPDATE SET username = $4, email = $5, name = $6, groups = $7,
       claims = $8, last_login_at = now()
     RETURNING sub, connector, upstream_id, username, email, name, groups, claims`,
    [
      randomUUID(),
      connector,
      identity.upstreamId,
      identity.username,
      identity.email ?? null,
      identity.name ?? null,
      identity.groups,
      identity.claims ?? {},
    ],
  );
  return toIdentity(rows[0]!);
}

export async function findIdentity(db: Queryable, sub: string): Promise<StoredIdentity | undefined> {
  const { rows } = await db.query<IdentityRow>(
    'SELECT sub, connector, upstream_id, username, email, name, groups, claims FROM identities WHERE sub = $1',
    [sub],
  );
  return rows[0] ? toIdentity(rows[0]) : undefined;
}

/** The subjects a local user signs in as, for ending their sessions and grants. */
export async function subsOfUpstream(
  db: Queryable,
  connector: string,
  upstreamId: string,
): Promise<string[]> {
  const { rows } = await db.query<{ sub: string }>(
    'SELECT sub FROM identities WHERE connector = $1 AND upstream_id = $2',
    [connector, upstreamId],
  );
  return rows.map((row) => row.sub);
}
