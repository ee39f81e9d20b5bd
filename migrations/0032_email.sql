-- Email (docs/email.md): which address of a local account is verified, and the single-use links
-- Lock mails (password reset, email verification).

-- The address the person proved they read, and when: `email_verified` holds while it equals the
-- account's current email, so any change of the email un-verifies it without another write.
ALTER TABLE users ADD COLUMN email_verified_address text;
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- A mailed link's token is kept only as its SHA-256: the table read by someone else opens nothing.
-- A reset link is bound to the password it replaces (`bound_to`: SHA-256 of the account's password
-- hash when the link was made), so changing the password kills every older link. A verification
-- link names the address it verifies. Each is taken once (`used_at` set by one UPDATE … RETURNING);
-- rows stay a day after they expire, for the per-account count of reset mails.
CREATE TABLE email_links (
  token_hash  bytea       PRIMARY KEY,
  purpose     text        NOT NULL CHECK (purpose IN ('password_reset', 'verify_email', 'change_email')),
  user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  bound_to    bytea,
  address     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz,
  CHECK ((purpose = 'password_reset') = (bound_to IS NOT NULL)),
  CHECK ((purpose = 'password_reset') = (address IS NULL))
);
-- Counting an account's recent reset mails (the per-account limit), and replacing its older links.
CREATE INDEX email_links_user_purpose ON email_links (user_id, purpose, created_at);
CREATE INDEX email_links_expires_at ON email_links (expires_at);
