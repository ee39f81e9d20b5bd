-- Audit events: every login attempt and every admin change. Append-only by use (Lock never
-- updates or deletes a row except through the retention sweep).

CREATE TABLE audit_events (
  id          bigserial   PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  type        text        NOT NULL,            -- e.g. login.succeeded, login.failed, admin.client.created
  outcome     text        NOT NULL CHECK (outcome IN ('success', 'failure', 'error')),
  actor       text,                            -- who acted: a sub, a client id, "cli", "config"
  subject     text,                            -- what it was about: a username, a client id, a kid
  connector   text,
  client_id   text,
  reason      text,                            -- why it failed, for admins (never shown to users)
  ip          text,
  user_agent  text,
  request_id  text,
  details     jsonb       NOT NULL DEFAULT '{}' -- never a secret, password, token or assertion
);
CREATE INDEX audit_events_at ON audit_events (at DESC);
CREATE INDEX audit_events_type_at ON audit_events (type, at DESC);
