-- OIDC Back-Channel Logout 1.0: where a client wants logout tokens, and whether it needs `sid` in them.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri text;
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required boolean NOT NULL DEFAULT false;
