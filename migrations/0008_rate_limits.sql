-- Request counters per fixed window, shared by every Lock process. Each process adds its own
-- counts about once a second and reads the totals back, so limits hold across processes without
-- a query per request.

CREATE TABLE rate_limit_counters (
  key           text        NOT NULL,   -- '<rule>:<client or address>'
  window_start  timestamptz NOT NULL,
  count         integer     NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limit_counters_window ON rate_limit_counters (window_start);
