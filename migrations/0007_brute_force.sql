-- Failed sign-ins, counted per account name and per source address, shared by every Lock process.

CREATE TABLE login_failures (
  key              text        PRIMARY KEY,   -- 'account:<lowercased username>' or 'address:<ip>'
  threshold        integer     NOT NULL,      -- failures before each further one locks
  failures         integer     NOT NULL,
  first_failure_at timestamptz NOT NULL,
  last_failure_at  timestamptz NOT NULL,
  locked_until     timestamptz
);
