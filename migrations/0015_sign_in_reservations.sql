-- Sign-in attempts are reserved before they are verified (docs/passwords.md): a row counts each
-- attempt as a failure until a right password gives it back. Keys: 'account:<normalised typed
-- name>' (as before), 'upstream:["<connector>","<upstream id>"]' (the resolved account, shared by
-- its aliases), 'address:<ip or IPv6 /64>' and 'interaction:<uid>'. Each row carries its own
-- policy, so one statement can reserve counters of different kinds.

ALTER TABLE login_failures
  ADD COLUMN wait_increment_seconds double precision NOT NULL DEFAULT 60,
  ADD COLUMN max_wait_seconds       double precision NOT NULL DEFAULT 900,
  ADD COLUMN reset_after_seconds    double precision NOT NULL DEFAULT 43200,
  -- Whether the latest reservation was within budget: what the reserving statement returns.
  ADD COLUMN last_attempt_allowed   boolean          NOT NULL DEFAULT true,
  -- For an account key: the account's normalised username, so `lock users unlock NAME` finds it.
  ADD COLUMN account_name           text;

CREATE INDEX login_failures_account_name ON login_failures (account_name) WHERE account_name IS NOT NULL;
CREATE INDEX login_failures_last_failure_at ON login_failures (last_failure_at);
