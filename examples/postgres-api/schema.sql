-- The example API's database: tables in schema `api`, three NOLOGIN roles that Lock's `role` claim
-- names, row-level security keyed on the verified token claims, and the one login role the API
-- connects as. Idempotent: run it again after editing it (psql -v ON_ERROR_STOP=1 -f schema.sql).
-- Run it as the database owner with CREATEROLE (or as a superuser); it never sets a password:
--   ALTER ROLE api_authenticator PASSWORD '…';
-- README.md explains every grant and policy.

BEGIN;

-- Roles are cluster-wide, so another database of the cluster may have made them already.
DO $$
DECLARE
  role_name text;
BEGIN
  FOREACH role_name IN ARRAY ARRAY['app_readonly', 'app_readwrite', 'app_admin'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = role_name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', role_name);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- created meanwhile by a session of another database
      END;
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'api_authenticator') THEN
    BEGIN
      CREATE ROLE api_authenticator LOGIN NOINHERIT;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
END
$$;

-- NOINHERIT: connected, the API holds no privilege at all; it acts only after SET ROLE.
ALTER ROLE api_authenticator LOGIN NOINHERIT;
ALTER ROLE app_readonly NOLOGIN;
ALTER ROLE app_readwrite NOLOGIN;
ALTER ROLE app_admin NOLOGIN;
GRANT app_readonly, app_readwrite, app_admin TO api_authenticator;

CREATE SCHEMA IF NOT EXISTS api;
REVOKE ALL ON SCHEMA api FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO app_readonly, app_readwrite, app_admin;

-- The verified access token's claims, which the API sets per transaction with
-- set_config('request.jwt.claims', <json>, true). NULL when unset: a policy comparing with it is
-- then false, so a transaction without claims sees and changes no row. (A pooled connection that
-- once had the setting reads '' afterwards, hence the nullif.)
CREATE OR REPLACE FUNCTION api.jwt_claims() RETURNS jsonb
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('request.jwt.claims', true), '')::jsonb $$;

-- The caller's `sub`: the user's stable subject, or the client id for client credentials.
CREATE OR REPLACE FUNCTION api.jwt_sub() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT api.jwt_claims() ->> 'sub' $$;

REVOKE ALL ON FUNCTION api.jwt_claims(), api.jwt_sub() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION api.jwt_claims(), api.jwt_sub() TO app_readonly, app_readwrite, app_admin;

CREATE TABLE IF NOT EXISTS api.users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 256),
  email text CHECK (length(email) <= 320),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api.sensitive_data (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner text NOT NULL DEFAULT api.jwt_sub() CHECK (length(owner) BETWEEN 1 AND 256),
  content text NOT NULL CHECK (length(content) BETWEEN 1 AND 10000),
  classification text NOT NULL DEFAULT 'internal'
    CHECK (classification IN ('public', 'internal', 'restricted')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sensitive_data_owner ON api.sensitive_data (owner);

-- Least privilege. Identity columns need no sequence grant; id and created_at are never written by
-- the roles (column grants). Nobody but the owner may TRUNCATE (which ignores row-level security),
-- add triggers or change the tables.
REVOKE ALL ON api.users, api.sensitive_data FROM PUBLIC, app_readonly, app_readwrite, app_admin;

GRANT SELECT ON api.users, api.sensitive_data TO app_readonly;

GRANT SELECT ON api.users, api.sensitive_data TO app_readwrite;
GRANT INSERT (username, email), UPDATE (email) ON api.users TO app_readwrite;
GRANT INSERT (owner, content, classification), UPDATE (content, classification)
  ON api.sensitive_data TO app_readwrite;

GRANT SELECT, DELETE ON api.users, api.sensitive_data TO app_admin;
GRANT INSERT (username, email), UPDATE (username, email) ON api.users TO app_admin;
GRANT INSERT (owner, content, classification), UPDATE (owner, content, classification)
  ON api.sensitive_data TO app_admin;

-- Row-level security on sensitive_data. Policies are permissive and per role: a role without a
-- policy for a command sees or changes no row with it (and the grants above refuse it first).
ALTER TABLE api.sensitive_data ENABLE ROW LEVEL SECURITY;

DROP POLICY IF EXISTS readonly_reads_unrestricted ON api.sensitive_data;
CREATE POLICY readonly_reads_unrestricted ON api.sensitive_data
  FOR SELECT TO app_readonly
  USING (classification <> 'restricted');

DROP POLICY IF EXISTS readwrite_reads_own_or_unrestricted ON api.sensitive_data;
CREATE POLICY readwrite_reads_own_or_unrestricted ON api.sensitive_data
  FOR SELECT TO app_readwrite
  USING (owner = api.jwt_sub() OR classification <> 'restricted');

DROP POLICY IF EXISTS readwrite_inserts_own ON api.sensitive_data;
CREATE POLICY readwrite_inserts_own ON api.sensitive_data
  FOR INSERT TO app_readwrite
  WITH CHECK (owner = api.jwt_sub());

DROP POLICY IF EXISTS readwrite_updates_own ON api.sensitive_data;
CREATE POLICY readwrite_updates_own ON api.sensitive_data
  FOR UPDATE TO app_readwrite
  USING (owner = api.jwt_sub())
  WITH CHECK (owner = api.jwt_sub());

DROP POLICY IF EXISTS admin_all ON api.sensitive_data;
CREATE POLICY admin_all ON api.sensitive_data
  FOR ALL TO app_admin
  USING (true)
  WITH CHECK (true);

-- Refuse to finish on a cluster where these roles could do more than this file says.
DO $$
DECLARE
  extra text;
BEGIN
  SELECT string_agg(format('%s → %s', member.rolname, granted.rolname), ', ') INTO extra
    FROM pg_auth_members m
    JOIN pg_roles granted ON granted.oid = m.roleid
    JOIN pg_roles member ON member.oid = m.member
   WHERE (member.rolname = 'api_authenticator'
          AND granted.rolname NOT IN ('app_readonly', 'app_readwrite', 'app_admin'))
      OR member.rolname IN ('app_readonly', 'app_readwrite', 'app_admin');
  IF extra IS NOT NULL THEN
    RAISE EXCEPTION 'unexpected role memberships: %', extra
      USING HINT = 'api_authenticator may switch only to app_readonly, app_readwrite and app_admin, which are members of nothing';
  END IF;
  SELECT string_agg(rolname, ', ') INTO extra
    FROM pg_roles
   WHERE rolname IN ('api_authenticator', 'app_readonly', 'app_readwrite', 'app_admin')
     AND (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication);
  IF extra IS NOT NULL THEN
    RAISE EXCEPTION 'roles with more than they need (superuser, bypassrls, createrole, createdb or replication): %', extra;
  END IF;
END
$$;

COMMIT;
