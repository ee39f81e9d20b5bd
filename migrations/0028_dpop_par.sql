-- DPoP (RFC 9449) and PAR (RFC 9126): an API that accepts only key-bound tokens; clients that must
-- bind their tokens or push their authorization requests.
ALTER TABLE resources ADD COLUMN require_dpop boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests boolean NOT NULL DEFAULT false;
