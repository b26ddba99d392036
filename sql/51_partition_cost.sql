-- What a run spends on a partitioned table (docs/operations.md#partitions): a partition
-- removed whole is counted from its pages, exactly as count(*) counts it, whatever its
-- pages hold; a partition whose bounds lie after the cutoff is not read at all.
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
