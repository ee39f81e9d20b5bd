-- Key-based client authentication (private_key_jwt): how a client authenticates, and its public
-- keys inline (a JWK set) or where it publishes them. NULL method: none if public, else Basic.
ALTER TABLE clients ADD COLUMN token_endpoint_auth_method text
  CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'));
ALTER TABLE clients ADD COLUMN jwks jsonb;
ALTER TABLE clients ADD COLUMN jwks_uri text;
