-- TOTP (RFC 6238) second factor of local accounts; see docs/totp.md.

-- An account's confirmed authenticator. The secret is sealed with the key-encryption key under the
-- context 'totp:<user_id>'. last_used_step is the time step of the last accepted code: a code of
-- that step or an earlier one is refused, so a code works once.
CREATE TABLE totp_credentials (
  user_id        uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  secret_sealed  text        NOT NULL,
  last_used_step bigint      NOT NULL,
  confirmed_at   timestamptz NOT NULL
);

-- Single-use recovery codes: SHA-256 of '<user_id>:<code>' (80 random bits per code, so a fast hash
-- is enough); used_at set = spent.
CREATE TABLE totp_recovery_codes (
  user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash  text        NOT NULL,
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- A sign-in that passed its password and waits for its second factor, keyed by the oidc-provider
-- interaction it belongs to (whose cookie only that browser holds). `enrol_secret_sealed` is the
-- secret being shown for enrolment; stage 'recovery-codes' = enrolled, codes shown, not finished.
CREATE TABLE pending_second_factors (
  interaction_uid      text        PRIMARY KEY,
  user_id              uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  sub                  text        NOT NULL,
  connector            text        NOT NULL,
  username             text        NOT NULL,
  stage                text        NOT NULL CHECK (stage IN ('verify', 'enrol', 'recovery-codes')),
  enrol_secret_sealed  text,
  failures             integer     NOT NULL DEFAULT 0,
  expires_at           timestamptz NOT NULL
);
CREATE INDEX pending_second_factors_expires_at ON pending_second_factors (expires_at);
