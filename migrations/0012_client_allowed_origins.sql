-- Web origins a client may call the token, userinfo and revocation endpoints from (CORS).
ALTER TABLE clients ADD COLUMN allowed_origins text[] NOT NULL DEFAULT '{}';
