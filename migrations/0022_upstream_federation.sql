-- Sign-in through an upstream OpenID Connect or OAuth 2.0 provider (connector types oidc, oauth2).
-- Everything here is shared by every Lock process.

-- Authorization requests Lock sent upstream and has not seen answered. Single use: the callback
-- deletes the row it answers (DELETE … RETURNING), found by the SHA-256 of its `state`.
-- `browser_binding` is the SHA-256 of a random value in a cookie of the browser that started the
-- login: only that browser completes it. `code_verifier` (PKCE) and `nonce` live only until then.
CREATE TABLE upstream_requests (
  state_hash       bytea       PRIMARY KEY,
  connector        text        NOT NULL,
  interaction_uid  text        NOT NULL,
  browser_binding  bytea       NOT NULL,
  nonce            text        NOT NULL,
  code_verifier    text        NOT NULL,
  max_age_seconds  integer,
  expires_at       timestamptz NOT NULL
);
CREATE INDEX upstream_requests_expires_at ON upstream_requests (expires_at);

-- A validated upstream login, until the browser that started it completes it (once).
CREATE TABLE upstream_logins (
  id               text        PRIMARY KEY,
  connector        text        NOT NULL,
  interaction_uid  text        NOT NULL,
  browser_binding  bytea       NOT NULL,
  outcome          jsonb       NOT NULL,  -- the mapped identity, never a token
  expires_at       timestamptz NOT NULL
);
CREATE INDEX upstream_logins_expires_at ON upstream_logins (expires_at);

-- The upstream's refresh token of each person (sealed with the key-encryption key), and when Lock
-- last read their claims upstream: a Lock refresh asks again at most every refreshInterval.
-- `refreshing_until`: one process at a time uses a (rotating) refresh token.
CREATE TABLE upstream_tokens (
  connector         text        NOT NULL,
  upstream_id       text        NOT NULL,
  refresh_token     text,
  checked_at        timestamptz NOT NULL,
  refreshing_until  timestamptz,
  PRIMARY KEY (connector, upstream_id)
);

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'lock_runtime') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON upstream_requests, upstream_logins, upstream_tokens TO lock_runtime;
  END IF;
END
$$;
