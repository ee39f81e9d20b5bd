import type { Queryable } from './pool.ts';

/** The last good copy of a connector's URL-sourced IdP metadata. */
export interface StoredMetadata {
  xml: string;
  fetchedAt: Date;
}

export async function findStoredMetadata(
  db: Queryable,
  connector: string,
  sourceUrl: string,
): Promise<StoredMetadata | undefined> {
  const { rows } = await db.query<{ xml: string; fetched_at: Date }>(
    'SELECT xml, fetched_at FROM saml_idp_metadata WHERE connector = $1 AND source_url = $2',
    [connector, sourceUrl],
  );
  return rows[0] && { xml: rows[0].xml, fetchedAt: rows[0].fetched_at };
}

export async function saveStoredMetadata(
  db: Queryable,
  connector: string,
  sourceUrl: string,
  metadata: StoredMetadata,
): Promise<void> {
  await db.query(
    `INSERT INTO saml_idp_metadata (connector, source_url, xml, fetched_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (connector) DO UPDATE SET source_url = $2, xml = $3, fetched_at = $4`,
    [connector, sourceUrl, metadata.xml, metadata.fetchedAt],
  );
}
