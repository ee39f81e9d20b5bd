-- RFC 8628 §3.5: a device polling the token endpoint faster than its interval gets `slow_down`,
-- and its interval grows by 5 seconds. oidc-provider keeps no poll times, so Lock does, here,
-- one row per device code that has been polled (keyed by the code's SHA-256, never the code).
CREATE TABLE device_code_polls (
  code_hash        text        PRIMARY KEY,
  polled_at        timestamptz NOT NULL,
  interval_seconds integer     NOT NULL,
  too_fast         boolean     NOT NULL,  -- whether the latest poll came before the interval was up
  expires_at       timestamptz NOT NULL   -- the device code's own expiry: pruned after it
);
CREATE INDEX device_code_polls_expires_at ON device_code_polls (expires_at);

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'lock_runtime') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON device_code_polls TO lock_runtime;
  END IF;
END
$$;
