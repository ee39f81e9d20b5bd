-- Who signed in through which connector. `sub` is Lock's stable subject identifier: one per
-- (connector, upstream id), opaque, never a display name, never shared across connectors.

CREATE TABLE identities (
  sub            text        PRIMARY KEY,
  connector      text        NOT NULL,
  upstream_id    text        NOT NULL,
  username       text        NOT NULL,
  email          text,
  name           text,
  groups         text[]      NOT NULL DEFAULT '{}',
  claims         jsonb       NOT NULL DEFAULT '{}',
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (connector, upstream_id)
);

-- Ending everything a user holds (sessions, grants, refresh tokens) when they are disabled.
CREATE INDEX oidc_payloads_account_id ON oidc_payloads ((payload ->> 'accountId')) WHERE payload ? 'accountId';
