-- Run windows: window_start, window_end and min_interval of add_policy and
-- alter_policy, retention.policies, the audit details, retention.next_window
-- (daylight-saving days included), and CALL retention.run(), which ignores
-- windows.  The worker's side is in tests/t/110_sched_run_windows.pl.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 3600) IS NOT NULL AS ids_pinned;
CREATE SCHEMA rw;
CREATE TABLE rw.events (id int PRIMARY KEY, at timestamptz NOT NULL);
CREATE INDEX ON rw.events (at);
INSERT INTO rw.events SELECT g, now() - interval '10 days' FROM generate_series(1, 20) g;

-- a nightly window in the policy's zone, one across midnight, one ending at 24:00, a minimum interval
SELECT retention.add_policy('rw.events', '1 day', 'at', time_zone => 'Europe/Berlin',
       window_start => '01:00', window_end => '05:00') AS night \gset
SELECT retention.add_policy('rw.events', '2 days', 'at', time_zone => 'Europe/Berlin',
       window_start => '22:00', window_end => '04:00', min_interval => '12 hours') AS late \gset
SELECT retention.add_policy('rw.events', '3 days', 'at', window_start => '18:00', window_end => '24:00') AS evening \gset
-- 00:00 to 24:00 is the whole day: no window; min_interval 0 is none
SELECT retention.add_policy('rw.events', '4 days', 'at', window_start => '00:00', window_end => '24:00',
       min_interval => '0') AS allday \gset
SELECT policy_id - :night AS n, keep, time_zone, window_start, window_end, min_interval
  FROM retention.policies WHERE tbl = 'rw.events'::regclass ORDER BY policy_id;
SELECT details->>'window_start' AS ws, details->>'window_end' AS we, details->>'min_interval' AS mi,
       details ? 'window_start' AS has_window
  FROM retention.audit WHERE event = 'policy_added' AND tbl = 'rw.events' ORDER BY seq;

-- bad windows: a clear error naming the table, SQLSTATE 22023, and nothing declared
\set VERBOSITY default
SELECT retention.add_policy('rw.events', '5 days', 'at', window_start => '01:00');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '5 days', 'at', window_end => '05:00');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '5 days', 'at', window_start => '03:30', window_end => '03:30');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '5 days', 'at', window_start => '00:00', window_end => '00:00');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '5 days', 'at', min_interval => '-1 hour');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '5 days', 'at', min_interval => '1 day -25 hours');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '5 days', 'at', min_interval => '1001 years');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS policies FROM retention.policies WHERE tbl = 'rw.events'::regclass;

-- alter_policy: one bound of a window that exists moves it; one bound alone on a policy without one is refused
SELECT retention.alter_policy(:allday, window_end => '06:00');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:night, window_end => '06:30');
SELECT retention.alter_policy(:night, window_start => '06:30');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:late, min_interval => '-5 minutes');
\echo :LAST_ERROR_SQLSTATE
-- the refused changes changed nothing
SELECT policy_id - :night AS n, window_start, window_end, min_interval
  FROM retention.policies WHERE tbl = 'rw.events'::regclass ORDER BY policy_id;
-- remove a window and a minimum interval; give a policy both
SELECT retention.alter_policy(:late, window_start => '00:00', window_end => '24:00', min_interval => '0');
SELECT retention.alter_policy(:allday, window_start => '23:15', window_end => '23:45', min_interval => '1 day');
SELECT policy_id - :night AS n, window_start, window_end, min_interval
  FROM retention.policies WHERE tbl = 'rw.events'::regclass ORDER BY policy_id;
-- a change that changes nothing records nothing
SELECT count(*) AS altered_before FROM retention.audit WHERE event = 'policy_altered' AND tbl = 'rw.events' \gset
SELECT retention.alter_policy(:night, window_start => '01:00', window_end => '06:30');
SELECT count(*) - :altered_before AS recorded FROM retention.audit WHERE event = 'policy_altered' AND tbl = 'rw.events';
SELECT details->>'window_start' AS ws, details->>'window_end' AS we, details->>'min_interval' AS mi
  FROM retention.audit WHERE event = 'policy_altered' AND tbl = 'rw.events' ORDER BY seq;
SELECT retention.alter_policy(:night, window_end => '05:00');

-- next_window: the window containing a time, or the next one (Europe/Berlin is UTC+2 in summer)
SELECT * FROM retention.next_window(:night, '2025-06-01 12:00+00');   -- the coming night
SELECT * FROM retention.next_window(:night, '2025-06-01 23:30+00');   -- inside it
SELECT * FROM retention.next_window(:night, '2025-06-02 03:00+00');   -- just closed: the next night
SELECT retention.alter_policy(:late, window_start => '22:00', window_end => '04:00');
SELECT * FROM retention.next_window(:late, '2025-06-02 00:30+00');    -- 02:30 local: the window of the evening before
SELECT * FROM retention.next_window(:evening, '2025-06-02 19:00+00'); -- UTC, until midnight
SELECT * FROM retention.next_window(:late + 100, now());
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('rw.events', '6 days', 'at') AS plain \gset
SELECT opens IS NULL AND closes IS NULL AS no_window FROM retention.next_window(:plain);

-- daylight saving.  Clocks go from 02:00 to 03:00 on 2025-03-30 in Berlin: a window wholly in the
-- skipped hour keeps its hour, opening when 02:00 would have been (03:00 CEST), instead of vanishing;
-- a window across the change is an hour shorter in elapsed time; the days around are as usual.
SELECT retention.alter_policy(:evening, time_zone => 'Europe/Berlin', window_start => '02:00', window_end => '03:00');
SELECT opens, closes, closes - opens AS length
  FROM retention.next_window(:evening, '2025-03-29 12:00+00');
SELECT opens, closes FROM retention.next_window(:evening, '2025-03-30 02:30+00');
SELECT opens, closes, closes - opens AS length FROM retention.next_window(:night, '2025-03-29 12:00+00');
SELECT retention.alter_policy(:evening, window_start => '02:30', window_end => '03:00');
SELECT opens, closes, closes - opens AS length FROM retention.next_window(:evening, '2025-03-29 12:00+00');
-- clocks go back from 03:00 to 02:00 on 2025-10-26: 02:00 to 03:00 is read as PostgreSQL reads those
-- times (the later, standard-time 02:00), and 01:00 to 05:00 is an hour longer
SELECT retention.alter_policy(:evening, window_start => '02:00', window_end => '03:00');
SELECT opens, closes, closes - opens AS length FROM retention.next_window(:evening, '2025-10-25 12:00+00');
SELECT opens, closes, closes - opens AS length FROM retention.next_window(:night, '2025-10-25 12:00+00');
SELECT timestamp '2025-10-26 02:00' AT TIME ZONE 'Europe/Berlin' AS postgres_reads_0200;

-- CALL retention.run() ignores windows: a window that is closed now does not stop it
SELECT retention.drop_policy(policy_id) FROM retention.policies WHERE tbl = 'rw.events'::regclass;
SELECT retention.add_policy('rw.events', '1 day', 'at', time_zone => 'UTC',
       window_start => ((now() AT TIME ZONE 'UTC') + interval '2 hours')::time,
       window_end => ((now() AT TIME ZONE 'UTC') + interval '3 hours')::time,
       min_interval => '1 day') AS closed \gset
SELECT opens > now() AS window_closed_now FROM retention.next_window(:closed);
CALL retention.run('rw.events');
SELECT count(*) AS rows_left FROM rw.events;
SELECT rows, status, notes FROM retention.runs WHERE policy_id = :closed;
-- and a run stopped by nothing ends its round: it is not stopped_early
SELECT stopped_early FROM retention.run_history WHERE policy_id = :closed;
SELECT retention.drop_policy(:closed);
DROP SCHEMA rw CASCADE;
