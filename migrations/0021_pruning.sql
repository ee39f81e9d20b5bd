-- Anonymous requests must not grow tables without bound: expired rows are pruned on a schedule
-- (src/store/pruning.ts), and a burst of the same failed sign-in is one audit row with a count.

-- Repeats of one failed password sign-in (login.password, login.locked_out: same type, outcome,
-- subject, address, connector, client, reason) within one minute: the first attempt is an audit
-- row carrying the key; the others only count here. audit_events stays append-only for
-- lock_runtime, so the count lives beside it, not in the row.
ALTER TABLE audit_events ADD COLUMN repeat_key text;
CREATE INDEX audit_events_repeat_key ON audit_events (repeat_key) WHERE repeat_key IS NOT NULL;

CREATE TABLE audit_event_repeats (
  repeat_key  text        PRIMARY KEY,  -- SHA-256 of the event's identity and its minute
  attempts    integer     NOT NULL,     -- the first attempt included
  last_at     timestamptz NOT NULL
);
CREATE INDEX audit_event_repeats_last_at ON audit_event_repeats (last_at);

-- Counters of names nobody signs in with are found by age through login_failures_last_failure_at
-- (0015_sign_in_reservations.sql).

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'lock_runtime') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON audit_event_repeats TO lock_runtime;
  END IF;
END
$$;
