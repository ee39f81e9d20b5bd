-- Resources choose opaque (introspected) access tokens and may nest claims under one namespaced
-- claim (Hasura). Clients may introspect other resources' tokens (a gateway) and exchange callers'
-- tokens (RFC 8693) under a policy.
ALTER TABLE resources ADD COLUMN access_token_format text NOT NULL DEFAULT 'jwt'
  CHECK (access_token_format IN ('jwt', 'opaque'));
ALTER TABLE resources ADD COLUMN claims_namespace jsonb;
ALTER TABLE clients ADD COLUMN introspects text[] NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN token_exchange jsonb;
