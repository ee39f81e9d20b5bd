-- IdP-initiated (unsolicited) SAML logins of connectors that accept them (`idpInitiated.enabled`).
-- The ACS validates the response and keeps the login here; the browser that posted it gets a
-- random cookie (`browser_binding` is its SHA-256) and is sent to the client's login initiation
-- endpoint. The client's next authorization request in that browser takes the login: single use
-- (the row is deleted), only for `client_id`, only until `expires_at`.
CREATE TABLE saml_idp_initiated_logins (
  browser_binding  bytea       PRIMARY KEY,
  connector        text        NOT NULL,
  client_id        text        NOT NULL,
  outcome          jsonb       NOT NULL,  -- the validated login (mapped identity), never the assertion
  created_at       timestamptz NOT NULL DEFAULT now(),
  expires_at       timestamptz NOT NULL
);
CREATE INDEX saml_idp_initiated_logins_expires_at ON saml_idp_initiated_logins (expires_at);
