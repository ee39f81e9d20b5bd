-- Foundation: what oidc-provider stores, signing keys, and the catalog (roles, resources, clients,
-- connectors, role mappings). `managed_by = 'config'` marks rows the declarative file owns.

CREATE TABLE oidc_payloads (
  model       text        NOT NULL,
  id          text        NOT NULL,
  payload     jsonb       NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_payloads_grant_id ON oidc_payloads (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_payloads_user_code ON oidc_payloads (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_payloads_uid ON oidc_payloads (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_payloads_expires_at ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE signing_keys (
  kid            text        PRIMARY KEY,
  alg            text        NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
  public_jwk     jsonb       NOT NULL,
  private_jwk    text        NOT NULL, -- AES-256-GCM under the key-encryption key
  created_at     timestamptz NOT NULL DEFAULT now(),
  activates_at   timestamptz NOT NULL  -- published from created_at, signs from activates_at
);
CREATE INDEX signing_keys_alg_activates_at ON signing_keys (alg, activates_at);

CREATE TABLE roles (
  name        text    PRIMARY KEY,
  description text,
  position    integer NOT NULL DEFAULT 0,
  managed_by  text
);

CREATE TABLE resources (
  id                text     PRIMARY KEY,
  scopes            text[]   NOT NULL DEFAULT '{}',
  roles             text[]   NOT NULL DEFAULT '{}',
  role_claim        text,
  default_role      text,
  access_token_ttl  integer  NOT NULL DEFAULT 300 CHECK (access_token_ttl > 0),
  signing_alg       text     NOT NULL DEFAULT 'RS256',
  managed_by        text
);

CREATE TABLE clients (
  client_id                  text    PRIMARY KEY,
  client_secret              text,   -- AES-256-GCM under the key-encryption key; NULL for public clients
  public                     boolean NOT NULL DEFAULT false,
  first_party                boolean NOT NULL DEFAULT false,
  grant_types                text[]  NOT NULL,
  redirect_uris              text[]  NOT NULL DEFAULT '{}',
  post_logout_redirect_uris  text[]  NOT NULL DEFAULT '{}',
  roles                      text[]  NOT NULL DEFAULT '{}',
  resources                  text[]  NOT NULL DEFAULT '{}',
  name                       text,
  managed_by                 text
);

CREATE TABLE connectors (
  id          text    PRIMARY KEY,
  type        text    NOT NULL,
  name        text    NOT NULL,
  position    integer NOT NULL DEFAULT 0,
  config      jsonb   NOT NULL DEFAULT '{}', -- secrets inside are encrypted under the key-encryption key
  managed_by  text
);

CREATE TABLE role_mappings (
  connector   text   NOT NULL,
  group_name  text   NOT NULL,
  roles       text[] NOT NULL,
  managed_by  text,
  PRIMARY KEY (connector, group_name)
);
