-- /account (docs/account.md): the account page's own sessions, and what Lock saw of each sign-in
-- session's browser (for the person's list of their sessions).

-- A signed-in /account page: the cookie holds a random id, only its SHA-256 is kept here. Bound to
-- the Lock sign-in session (oidc-provider's Session, by its `uid`) it came from: when that session
-- ends (sign-out, ended by the person or an admin), the account page's session is worth nothing.
CREATE TABLE account_sessions (
  id_hash text PRIMARY KEY,
  sub text NOT NULL,
  session_uid text NOT NULL,
  -- When the person last proved who they are (the ID token's auth_time): decides "recent".
  auth_time timestamptz NOT NULL,
  amr text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX account_sessions_session_uid ON account_sessions (session_uid);
CREATE INDEX account_sessions_expires_at ON account_sessions (expires_at);

-- The browser of a Lock session as seen at each authorization it answered: oidc-provider's Session
-- keeps no user agent or address. Kept as long as a session can live; pruned after.
CREATE TABLE session_activity (
  session_uid text PRIMARY KEY,
  account_id text NOT NULL,
  user_agent text,
  ip text,
  first_seen_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL
);
CREATE INDEX session_activity_account ON session_activity (account_id);
CREATE INDEX session_activity_last_seen ON session_activity (last_seen_at);

-- A person's recent sign-ins on /account: the login.* events they signed in by (actor = their sub)
-- and those typed with their name at their connector (failures have no actor).
CREATE INDEX audit_events_login_actor ON audit_events (actor, id DESC) WHERE type LIKE 'login.%';
CREATE INDEX audit_events_login_subject ON audit_events (lower(subject), connector, id DESC) WHERE type LIKE 'login.%';
