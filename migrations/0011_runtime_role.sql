-- Least privilege: `lock_runtime` holds exactly what a running Lock needs. Migrations run as the
-- owner; an operator grants lock_runtime to the login role that DATABASE_URL names (see
-- docs/operations.md). The audit log is append-only for it: no UPDATE, no DELETE.
-- Skipped (with a notice) where the migrating role may not create roles and none exists.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lock_runtime') THEN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolcreaterole)) THEN
      RAISE NOTICE 'lock_runtime not created: % may not create roles', current_user;
      RETURN;
    END IF;
    BEGIN
      CREATE ROLE lock_runtime NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created meanwhile by a migration of another database in this cluster
    END;
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO lock_runtime', current_schema());
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO lock_runtime', current_schema());
  EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO lock_runtime', current_schema());
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO lock_runtime', current_schema());
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO lock_runtime', current_schema());
  REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM lock_runtime;
  REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON lock_migrations FROM lock_runtime;
END
$$;
