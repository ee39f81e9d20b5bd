-- `lock config export` writes back the ${VARIABLE} a declarative file set each secret from (names
-- only, never values): a fact of the configuration, kept as long as the entity the file owns, not
-- as long as an audit event. One row per secret of a client or connector the file wrote as
-- exactly `${NAME}`; each apply replaces the rows of the entities it declares, in its transaction.
CREATE TABLE declarative_secret_variables (
  entity_kind  text NOT NULL CHECK (entity_kind IN ('client', 'connector')),
  entity_id    text NOT NULL,
  -- `clientSecret`; a connector's config member as the export names it: `groupSearch.bindPassword`.
  path         text NOT NULL,
  variable     text NOT NULL,
  PRIMARY KEY (entity_kind, entity_id, path),
  -- The entity's row, whichever table holds it: deleting the entity (by any path) deletes its names,
  -- so an entity re-created later, through the API, is not exported with a variable it never had.
  client_id    text GENERATED ALWAYS AS (CASE WHEN entity_kind = 'client' THEN entity_id END) STORED
               REFERENCES clients (client_id) ON DELETE CASCADE,
  connector_id text GENERATED ALWAYS AS (CASE WHEN entity_kind = 'connector' THEN entity_id END) STORED
               REFERENCES connectors (id) ON DELETE CASCADE
);
CREATE INDEX declarative_secret_variables_client ON declarative_secret_variables (client_id);
CREATE INDEX declarative_secret_variables_connector ON declarative_secret_variables (connector_id);

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'lock_runtime') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON declarative_secret_variables TO lock_runtime;
  END IF;
END
$$;
