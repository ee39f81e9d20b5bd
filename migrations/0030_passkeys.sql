-- Passkeys (WebAuthn) of local accounts; see docs/passkeys.md.

-- A registered credential. The public key is COSE as the authenticator gave it. sign_count is the
-- authenticator's counter at its last accepted use (0 = the authenticator keeps none). backup_eligible
-- (BE) marks a key that may be synced between devices, backed_up (BS) one that is: amr says swk for
-- those, hwk for a device-bound one.
CREATE TABLE passkeys (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credential_id    text        NOT NULL UNIQUE,  -- base64url, as WebAuthn hands it over
  public_key       bytea       NOT NULL,
  sign_count       bigint      NOT NULL,
  transports       text[]      NOT NULL DEFAULT '{}',
  aaguid           text        NOT NULL,
  backup_eligible  boolean     NOT NULL,
  backed_up        boolean     NOT NULL,
  name             text        NOT NULL CHECK (name <> '' AND length(name) <= 100),
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_used_at     timestamptz
);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- Challenges handed to a browser, each for one ceremony: single-use (consumed_at set by the one
-- conditional UPDATE that takes it), short-lived, and bound to what asked for it: the sign-in
-- interaction (purpose sign-in / second-factor) or the account session (registration).
CREATE TABLE webauthn_challenges (
  challenge    text        PRIMARY KEY,
  purpose      text        NOT NULL CHECK (purpose IN ('sign-in', 'second-factor', 'registration')),
  binding      text        NOT NULL,
  user_id      uuid        REFERENCES users (id) ON DELETE CASCADE,
  expires_at   timestamptz NOT NULL,
  consumed_at  timestamptz
);
CREATE INDEX webauthn_challenges_expires_at ON webauthn_challenges (expires_at);

-- A second-factor step that only a passkey may finish (the client or a role requires one).
ALTER TABLE pending_second_factors ADD COLUMN passkey_only boolean NOT NULL DEFAULT false;

-- A client can require a passkey (phishing-resistant) of everyone who signs in to it.
ALTER TABLE clients ADD COLUMN require_passkey boolean NOT NULL DEFAULT false;
