-- Scheduler settings: defaults, units, and who may change them.  The
-- regression server does not preload the library, so the scheduler itself
-- does not run here and retention.status shows no next run.
LOAD 'pg_retention';
SHOW retention.enabled;
SHOW retention.naptime;
SHOW retention.max_workers;
SHOW retention.max_run_time;
SHOW retention.run_history_keep;
SELECT name, setting, unit, context, vartype, min_val, max_val
  FROM pg_settings
 WHERE name IN ('retention.enabled', 'retention.naptime', 'retention.max_workers',
                'retention.max_run_time', 'retention.run_history_keep')
 ORDER BY name;

-- reloaded from postgresql.conf, never set in a session (SQLSTATE 55P02)
SET retention.naptime = '5s';
\echo :LAST_ERROR_SQLSTATE
SET retention.enabled = off;
\echo :LAST_ERROR_SQLSTATE
ALTER ROLE CURRENT_USER SET retention.max_workers = 3;
\echo :LAST_ERROR_SQLSTATE

-- out-of-range values are refused with their limits
ALTER SYSTEM SET retention.naptime = 0;
ALTER SYSTEM SET retention.naptime = '2d';
ALTER SYSTEM SET retention.max_workers = 0;
ALTER SYSTEM SET retention.run_history_keep = 0;
ALTER SYSTEM SET retention.max_run_time = -1;

-- without the scheduler (no preload here), status has no next run
CREATE TABLE sched_t(id int PRIMARY KEY, at timestamptz NOT NULL);
SELECT retention.add_policy('sched_t', interval '1 day', 'at') > 0 AS added;
SELECT next_run IS NULL OR current_setting('shared_preload_libraries') ~ 'pg_retention' AS no_next_run_unless_preloaded
  FROM retention.status WHERE tbl = 'sched_t'::regclass;
DROP TABLE sched_t;
