-- Per client ID token signing algorithm (OpenID Connect Registration's id_token_signed_response_alg):
-- RS256, what every relying party supports, unless the client asks for ES256 or EdDSA (cheaper to sign).
ALTER TABLE clients ADD COLUMN id_token_signing_alg text NOT NULL DEFAULT 'RS256'
  CHECK (id_token_signing_alg IN ('RS256', 'ES256', 'EdDSA'));
