-- A version per identity that moves with every change to what a token redemption reads for it:
-- the identity row, and for one of Lock's own accounts the user row, the user's groups and direct
-- roles. Roles and role mappings apply to everyone: their changes move the 'accounts' topic of
-- change_versions instead. A process may answer a redemption with the account it read before while
-- both versions are what the redemption's own statement reads now (src/store/account-cache.ts).
--
-- Triggers rather than a bump in each store function: every writer (admin API, CLI, declarative
-- file, /account, sign-in, an operator's SQL) moves the version, and none can forget to.

ALTER TABLE identities ADD COLUMN version bigint NOT NULL DEFAULT 0;
INSERT INTO change_versions (topic, version) VALUES ('accounts', 0) ON CONFLICT (topic) DO NOTHING;

-- Any update of an identity (a sign-in's claims, a fan-out below) gives it a new version.
CREATE FUNCTION identity_version_moves() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END
$$;
CREATE TRIGGER identities_version BEFORE UPDATE ON identities
  FOR EACH ROW EXECUTE FUNCTION identity_version_moves();

-- A local account's identity is the one whose upstream id is the user's id (src/connectors/local).
CREATE FUNCTION local_account_version_moves(account uuid) RETURNS void LANGUAGE sql AS $$
  UPDATE identities SET version = version WHERE connector = 'local' AND upstream_id = account::text
$$;

CREATE FUNCTION user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM local_account_version_moves(OLD.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER users_account_version AFTER UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION user_changed();

-- user_groups and user_roles: the user a row was taken from and the one it was given to.
CREATE FUNCTION user_grant_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM local_account_version_moves(OLD.user_id);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM local_account_version_moves(NEW.user_id);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER user_groups_account_version AFTER INSERT OR UPDATE OR DELETE ON user_groups
  FOR EACH ROW EXECUTE FUNCTION user_grant_changed();
CREATE TRIGGER user_roles_account_version AFTER INSERT OR UPDATE OR DELETE ON user_roles
  FOR EACH ROW EXECUTE FUNCTION user_grant_changed();

CREATE FUNCTION role_catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE change_versions SET version = version + 1 WHERE topic = 'accounts';
  RETURN NULL;
END
$$;
CREATE TRIGGER roles_account_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON roles
  FOR EACH STATEMENT EXECUTE FUNCTION role_catalog_changed();
CREATE TRIGGER role_mappings_account_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON role_mappings
  FOR EACH STATEMENT EXECUTE FUNCTION role_catalog_changed();
