// The `${VARIABLE}` names a declarative file set secrets from (migration
// 0035_declarative_secret_variables.sql): names only, never values. A row lives as long as its
// client or connector (the foreign keys delete it with the entity).
import type { Queryable } from './pool.ts';

export type SecretEntityKind = 'client' | 'connector';

export interface DeclarativeSecretVariable {
  kind: SecretEntityKind;
  /** The client id or connector id. */
  id: string;
  /** `clientSecret`; a connector's config member as the export names it: `groupSearch.bindPassword`. */
  path: string;
  variable: string;
}

/**
 * The rows of `entities` become `variables` (which name only those entities): what a secret of
 * theirs was set from before is forgotten, also where it is now written literally or absent.
 */
export async function replaceDeclarativeSecretVariables(
  db: Queryable,
  entities: Array<{ kind: SecretEntityKind; id: string }>,
  variables: DeclarativeSecretVariable[],
): Promise<void> {
  await db.query(
    `DELETE FROM declarative_secret_variables
      WHERE (entity_kind, entity_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [entities.map((entity) => entity.kind), entities.map((entity) => entity.id)],
  );
  if (variables.length === 0) return;
  await db.query(
    `INSERT INTO declarative_secret_variables (entity_kind, entity_id, path, variable)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`,
    [
      variables.map((each) => each.kind),
      variables.map((each) => each.id),
      variables.map((each) => each.path),
      variables.map((each) => each.variable),
    ],
  );
}

export async function listDeclarativeSecretVariables(db: Queryable): Promise<DeclarativeSecretVariable[]> {
  const { rows } = await db.query<{
    entity_kind: SecretEntityKind;
    entity_id: string;
    path: string;
    variable: string;
  }>(
    'SELECT entity_kind, entity_id, path, variable FROM declarative_secret_variables ORDER BY entity_kind, entity_id, path',
  );
  return rows.map((row) => ({
    kind: row.entity_kind,
    id: row.entity_id,
    path: row.path,
    variable: row.variable,
  }));
}
