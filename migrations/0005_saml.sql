-- SAML connectors (Lock as a service provider). Everything here is shared by every Lock process.

-- AuthnRequests Lock sent and has not seen completed. `id` is the AuthnRequest ID, which the IdP's
-- answer names in InResponseTo. Single use: the ACS marks a row answered exactly once, the
-- completion step deletes it. `browser_binding` is the SHA-256 of a random value held in a cookie
-- of the browser that started the login: only that browser can complete it.
CREATE TABLE saml_requests (
  id               text        PRIMARY KEY,
  connector        text        NOT NULL,
  interaction_uid  text        NOT NULL,
  relay_state      text        NOT NULL,
  browser_binding  bytea       NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL,
  answered_at      timestamptz,
  outcome          jsonb       -- the validated login (mapped identity), never the assertion itself
);
CREATE INDEX saml_requests_expires_at ON saml_requests (expires_at);

-- IDs of assertions already accepted, kept until they expire, so that none is accepted twice.
CREATE TABLE saml_assertion_ids (
  issuer        text        NOT NULL,
  assertion_id  text        NOT NULL,
  expires_at    timestamptz NOT NULL,
  PRIMARY KEY (issuer, assertion_id)
);
CREATE INDEX saml_assertion_ids_expires_at ON saml_assertion_ids (expires_at);

-- The last good copy of each URL-sourced IdP metadata document: used while the URL is down, and
-- by a process that starts while it is down.
CREATE TABLE saml_idp_metadata (
  connector   text        PRIMARY KEY,
  source_url  text        NOT NULL,
  xml         text        NOT NULL,
  fetched_at  timestamptz NOT NULL
);
