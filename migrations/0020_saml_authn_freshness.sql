-- What the IdP was asked for in each AuthnRequest, so that its answer can be held to it: a fresh
-- authentication (ForceAuthn, at or after `issued_at`) and the client's max_age. Rows written before
-- this migration have no `issued_at`: their `created_at` stands in.
-- `responses` counts the responses posted for the request: beyond a few, the ACS refuses more
-- without checking them (one outstanding request must not buy an unlimited number of checks).
ALTER TABLE saml_requests
  ADD COLUMN issued_at        timestamptz,
  ADD COLUMN force_authn      boolean NOT NULL DEFAULT false,
  ADD COLUMN max_age_seconds  integer,
  ADD COLUMN responses        integer NOT NULL DEFAULT 0;
