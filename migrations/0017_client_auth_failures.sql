-- Failed client authentications (a wrong client secret or assertion at /token, introspection,
-- revocation), counted per (client, address) and per address, shared by every Lock process.

CREATE TABLE client_auth_failures (
  key              text        PRIMARY KEY,   -- 'client:<client id> address:<ip>' or 'address:<ip>'
  threshold        integer     NOT NULL,      -- failures before each further one locks
  failures         integer     NOT NULL,
  first_failure_at timestamptz NOT NULL,
  locked_until     timestamptz
);
