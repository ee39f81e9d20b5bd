-- Local accounts: people who sign in with a username and password held by Lock (connector `local`),
-- their groups (mapped to roles through role_mappings, like any connector's groups) and their
-- directly granted roles. `managed_by = 'config'` marks rows the declarative file owns.

CREATE TABLE users (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  username       text        NOT NULL CHECK (username <> ''),
  email          text,
  name           text,
  password_hash  text,       -- argon2id PHC string; NULL = the account cannot sign in with a password
  disabled       boolean     NOT NULL DEFAULT false,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  managed_by     text
);
-- Alice and alice are one person: usernames are unique and looked up case-insensitively.
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

CREATE TABLE groups (
  name        text PRIMARY KEY,
  managed_by  text
);

CREATE TABLE user_groups (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  group_name  text NOT NULL REFERENCES groups (name) ON DELETE CASCADE,
  PRIMARY KEY (user_id, group_name)
);
CREATE INDEX user_groups_group_name ON user_groups (group_name);

CREATE TABLE user_roles (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role_name  text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role_name)
);
CREATE INDEX user_roles_role_name ON user_roles (role_name);
