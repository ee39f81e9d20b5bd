-- Consent a person gave a client, remembered across sign-outs: oidc-provider's Grant ends with the
-- session that holds it (its tokens with it), so what was consented to is kept here, apart from any
-- token. One row per account and client; the scopes and claims grow as the person consents to more.
CREATE TABLE remembered_consents (
  account_id text NOT NULL,
  client_id text NOT NULL,
  openid_scope text NOT NULL DEFAULT '',
  openid_claims text[] NOT NULL DEFAULT '{}',
  resource_scopes jsonb NOT NULL DEFAULT '{}',
  granted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, client_id)
);
CREATE INDEX remembered_consents_client ON remembered_consents (client_id);
