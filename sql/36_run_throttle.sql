-- The throttle of runs (docs/operations.md#protecting-the-workload): retention.throttle for
-- every policy, retention.set_throttle() for one; the adaptive mode halves batches that take
-- longer than retention.max_batch_time and pauses to keep its WAL under
-- retention.max_wal_rate, and its notes say what held it back.  Bad input changes nothing.
SET timezone = 'UTC';
SET client_min_messages = warning;
SELECT setval('retention.policy_catalog_policy_id_seq', 3600) IS NOT NULL AS ids_pinned;
CREATE TABLE throttled (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text);
CREATE INDEX ON throttled (at);
INSERT INTO throttled SELECT g, timestamptz '2024-01-01' - (g % 100) * interval '1 day', md5(g::text)
  FROM generate_series(1, 60000) g;
VACUUM ANALYZE throttled;
SELECT retention.add_policy('throttled', '50 days', 'at', batch_size => 5000) AS p \gset
SHOW retention.throttle;
SHOW retention.max_batch_time;
SHOW retention.max_wal_rate;
SHOW retention.max_replica_lag;
SHOW retention.min_purge_rate;

-- a policy's own throttle; what is refused
SELECT retention.set_throttle(:p, 'adaptive');
SELECT policy_id = :p AS ours, tbl, throttle FROM retention.policy_throttles;
SELECT retention.set_throttle(:p, 'turbo');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.set_throttle(999999, 'fixed');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.set_throttle(NULL, 'fixed');
\echo :LAST_ERROR_SQLSTATE
CREATE ROLE throttle_stranger;
SET ROLE throttle_stranger;
SELECT retention.set_throttle(:p, 'fixed');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE throttle_stranger;
SELECT throttle FROM retention.policy_throttles;
SELECT event, details->>'throttle' AS throttle FROM retention.audit WHERE event = 'policy_throttle' ORDER BY seq;

-- WAL rate: at most 1 MB a second, the run takes as long as its WAL needs at that rate
SET retention.max_wal_rate = '1MB';
SET retention.max_batch_time = '1min';
SELECT pg_current_wal_insert_lsn() AS lsn0 \gset
CALL retention.run('throttled', timestamptz '2024-01-01 00:00+00');
SELECT rows, extract(epoch FROM finished_at - started_at) * 1024 * 1024
         >= 0.8 * pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'lsn0') AS took_what_the_rate_allows,
       notes ~ 'held back by WAL rate \(\d+x, retention.max_wal_rate 1024 kB/s\)' AS notes_say_wal_rate
  FROM retention.runs WHERE policy_id = :p ORDER BY run_id DESC LIMIT 1;
RESET retention.max_wal_rate;

-- batch time: a limit of 1 ms halves batches of 5000 rows
INSERT INTO throttled SELECT 100000 + g, timestamptz '2024-01-01' - (g % 100) * interval '1 day', md5(g::text)
  FROM generate_series(1, 60000) g;
SET retention.max_batch_time = '1ms';
CALL retention.run('throttled', timestamptz '2024-01-01 00:00+00');
SELECT rows, batches > 30000 / 5000 AS more_batches_than_full_ones,
       notes ~ 'held back by batch time \(\d+x, retention.max_batch_time 1 ms\)' AS notes_say_batch_time,
       notes ~ 'batches of \d+ to 5000 rows' AS up_to_the_batch_size
  FROM retention.runs WHERE policy_id = :p ORDER BY run_id DESC LIMIT 1;
RESET retention.max_batch_time;

-- back to the setting (fixed): no throttle in the notes
INSERT INTO throttled SELECT 200000 + g, timestamptz '2024-01-01' - (g % 100) * interval '1 day', md5(g::text)
  FROM generate_series(1, 60000) g;
SELECT retention.set_throttle(:p, NULL);
SELECT count(*) AS own_throttles FROM retention.policy_throttles;
SET retention.max_batch_time = '1ms';
CALL retention.run('throttled', timestamptz '2024-01-01 00:00+00');
SELECT rows, batches, notes FROM retention.runs WHERE policy_id = :p ORDER BY run_id DESC LIMIT 1;
RESET retention.max_batch_time;
-- the setting, for every policy without one of its own; a policy's own overrides it
INSERT INTO throttled SELECT 300000 + g, timestamptz '2024-01-01' - (g % 100) * interval '1 day', md5(g::text)
  FROM generate_series(1, 20000) g;
SET retention.throttle = adaptive;
CALL retention.run('throttled', timestamptz '2024-01-01 00:00+00');
SELECT rows, notes ~ '^adaptive throttle: ' AS adaptive FROM retention.runs WHERE policy_id = :p ORDER BY run_id DESC LIMIT 1;
INSERT INTO throttled SELECT 400000 + g, timestamptz '2024-01-01' - (g % 100) * interval '1 day', md5(g::text)
  FROM generate_series(1, 20000) g;
SELECT retention.set_throttle(:p, 'fixed');
CALL retention.run('throttled', timestamptz '2024-01-01 00:00+00');
SELECT rows, notes FROM retention.runs WHERE policy_id = :p ORDER BY run_id DESC LIMIT 1;
RESET retention.throttle;
-- dropping the policy drops its own throttle
SELECT retention.drop_policy(:p);
SELECT count(*) AS own_throttles FROM retention.policy_throttles;
DROP TABLE throttled;
