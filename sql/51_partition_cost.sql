-- What a run spends on a partitioned table (docs/operations.md#partitions): a partition
-- removed whole is counted from its pages, exactly as count(*) counts it, whatever its
-- pages hold; a partition whose bounds lie after the cutoff is not read at all; one of more
-- than 1000 pages is estimated (retention.partition_row_count = auto, the default), and the
-- audit entry and the run's notes say so.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 5100) IS NOT NULL AS ids_pinned;
CREATE TABLE meter_readings (id int, at timestamptz NOT NULL, v text) PARTITION BY RANGE (at);
CREATE TABLE meter_readings_2024_01 PARTITION OF meter_readings FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE meter_readings_2024_02 PARTITION OF meter_readings FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE meter_readings_2024_03 PARTITION OF meter_readings FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
CREATE TABLE meter_readings_2024_04 PARTITION OF meter_readings FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');
-- January vacuumed: every page all-visible
INSERT INTO meter_readings SELECT g, timestamptz '2024-01-01' + g * interval '40 seconds', repeat('j', 40)
  FROM generate_series(0, 2999) g;
VACUUM meter_readings_2024_01;
-- February not vacuumed: rows updated and deleted (dead versions beside live ones), an
-- insert rolled back
INSERT INTO meter_readings SELECT g, timestamptz '2024-02-01' + g * interval '40 seconds', repeat('f', 40)
  FROM generate_series(0, 2999) g;
UPDATE meter_readings_2024_02 SET v = 'updated' WHERE id % 3 = 0;
DELETE FROM meter_readings_2024_02 WHERE id % 5 = 0;
BEGIN;
INSERT INTO meter_readings SELECT g, timestamptz '2024-02-10' + g * interval '1 second', 'gone' FROM generate_series(1, 500) g;
ROLLBACK;
-- March and April: one row an hour
INSERT INTO meter_readings SELECT g, timestamptz '2024-03-01' + g * interval '1 hour', 'm'
  FROM generate_series(0, 24 * 61 - 1) g;
SELECT (SELECT count(*) FROM meter_readings_2024_01) AS jan, (SELECT count(*) FROM meter_readings_2024_02) AS feb,
       (SELECT count(*) FROM meter_readings_2024_03 WHERE at < '2024-03-16') AS march_expired \gset
SELECT :jan AS jan, :feb AS feb, :march_expired AS march_expired;
SELECT retention.add_policy('meter_readings', '30 days', 'at') AS rd \gset
-- as of 2024-04-15 the cutoff is 2024-03-16: January and February go whole, half of March by rows
CALL retention.run('meter_readings', timestamptz '2024-04-15 00:00+00');
SELECT tbl, rows, rows = CASE tbl WHEN 'public.meter_readings_2024_01' THEN :jan ELSE :feb END AS exact,
       details->>'rows_estimated' AS estimated
  FROM retention.audit WHERE event = 'partition_dropped' AND tbl LIKE 'public.meter_readings%' ORDER BY seq;
SELECT rows = :jan + :feb + :march_expired AS all_counted, partitions, rows_left, status
  FROM retention.runs WHERE policy_id = :rd;
SELECT pg_stat_force_next_flush();
-- March was read (its expired rows went by batches, and the check counted what is left);
-- April's bounds put every row of it after the cutoff: nothing of it was read
SELECT relname, seq_scan + COALESCE(idx_scan, 0) > 0 AS read
  FROM pg_stat_user_tables WHERE relname IN ('meter_readings_2024_03', 'meter_readings_2024_04') ORDER BY 1;
SELECT min(at) >= '2024-03-16' AS nothing_expired_left, count(*) FROM meter_readings;
SELECT retention.drop_policy(:rd);
DROP TABLE meter_readings;

-- more than 1000 pages: auto estimates the partition's rows from pg_class.reltuples and says
-- so; exact counts them
CREATE TABLE meter_archive (id int, at timestamptz NOT NULL, v text) PARTITION BY RANGE (at);
CREATE TABLE meter_archive_2023 PARTITION OF meter_archive FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE meter_archive_2024 PARTITION OF meter_archive FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO meter_archive SELECT g, timestamptz '2023-01-01' + g * interval '1 minute', repeat('x', 60)
  FROM generate_series(1, 120000) g;
INSERT INTO meter_archive SELECT g, timestamptz '2024-06-01', 'y' FROM generate_series(1, 10) g;
CREATE TABLE meter_archive_copy AS SELECT * FROM meter_archive_2023;
VACUUM ANALYZE meter_archive_2023;
SELECT pg_relation_size('meter_archive_2023') > 1000 * 8192 AS over_1000_pages, reltuples > 0 AS analyzed
  FROM pg_class WHERE relname = 'meter_archive_2023';
SELECT reltuples AS estimate FROM pg_class WHERE relname = 'meter_archive_2023' \gset
SELECT retention.add_policy('meter_archive', '6 months', 'at') AS ar \gset
-- (quiet: the NOTICE would print the estimate)
SET client_min_messages = warning;
CALL retention.run('meter_archive', timestamptz '2024-09-01 00:00+00');
RESET client_min_messages;
SELECT tbl, rows = :estimate AS rows_are_the_estimate, details->>'rows_estimated' AS estimated
  FROM retention.audit WHERE event = 'partition_dropped' AND tbl = 'public.meter_archive_2023';
SELECT rows = :estimate AS run_rows_are_the_estimate, partitions,
       regexp_replace(notes, 'the [0-9]+ rows', 'the N rows') AS notes
  FROM retention.runs WHERE policy_id = :ar;
-- exact: the same partition again, counted
CREATE TABLE meter_archive_2023 PARTITION OF meter_archive FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
INSERT INTO meter_archive SELECT * FROM meter_archive_copy;
VACUUM ANALYZE meter_archive_2023;
SET retention.partition_row_count = exact;
CALL retention.run('meter_archive', timestamptz '2024-09-01 00:00+00');
RESET retention.partition_row_count;
SELECT rows, details->>'rows_estimated' AS estimated FROM retention.audit
 WHERE event = 'partition_dropped' AND tbl = 'public.meter_archive_2023' ORDER BY seq DESC LIMIT 1;
SELECT rows, notes FROM retention.runs WHERE policy_id = :ar ORDER BY run_id DESC LIMIT 1;
SELECT retention.drop_policy(:ar);
DROP TABLE meter_archive, meter_archive_copy;
