-- A client can require a second factor of everyone who signs in to it.
ALTER TABLE clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;
