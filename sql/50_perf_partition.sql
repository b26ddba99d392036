-- The partition strategy: partitions wholly before the cutoff are detached and dropped
-- (or kept detached) instead of having their rows deleted; everything else goes by rows.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 5000) IS NOT NULL AS ids_pinned;
-- every object a DROP removes, to show that nothing but the partition itself goes (no CASCADE)
CREATE TABLE dropped_objects (object_type text, object_identity text);
CREATE FUNCTION log_dropped() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.dropped_objects SELECT object_type, object_identity FROM pg_event_trigger_dropped_objects()
   WHERE object_type IN ('table', 'index', 'table constraint', 'view', 'rule', 'trigger')
     AND object_identity NOT LIKE 'pg_toast.%';
END $$;
CREATE EVENT TRIGGER perf_log_dropped ON sql_drop EXECUTE FUNCTION log_dropped();

-- monthly partitions and a DEFAULT partition holding a row from 2023 and one from 2025
CREATE TABLE events (id int, at timestamptz NOT NULL, body text) PARTITION BY RANGE (at);
CREATE TABLE events_2024_01 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE events_2024_02 PARTITION OF events FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
CREATE TABLE events_2024_03 PARTITION OF events FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
CREATE TABLE events_2024_04 PARTITION OF events FOR VALUES FROM ('2024-04-01') TO ('2024-05-01');
CREATE TABLE events_other PARTITION OF events DEFAULT;
CREATE INDEX ON events (at);
INSERT INTO events SELECT g, timestamptz '2024-01-01' + (g - 1) * interval '1 day', 'e' || g
  FROM generate_series(1, 121) g;                     -- one row a day, 2024-01-01 .. 2024-04-30
INSERT INTO events VALUES (1001, '2023-06-01', 'old'), (1002, '2025-06-01', 'future');
SELECT retention.add_policy('events', '30 days', 'at') AS ev \gset
SELECT policy_id = :ev AS ours, partition_action, detach_schema FROM retention.policies;
-- as of 2024-04-15 the cutoff is 2024-03-16: January and February lie wholly before it
SELECT rows_due FROM retention.preview(timestamptz '2024-04-15 00:00+00');
CALL retention.run('events', timestamptz '2024-04-15 00:00+00');
SELECT c.relname, (SELECT count(*) FROM events e WHERE e.tableoid = c.oid) AS rows
  FROM pg_class c WHERE c.relname LIKE 'events%' AND c.relkind = 'r' ORDER BY 1;
SELECT min(at), count(*) FROM events;
SELECT rows, batches, partitions, status, notes FROM retention.runs WHERE policy_id = :ev;
SELECT event, tbl, rows, details->>'partition_of' AS of, details->>'bound' AS bound,
       details->>'concurrently' AS concurrently
  FROM retention.audit WHERE event LIKE 'partition%' AND tbl LIKE 'public.events%' ORDER BY seq;
-- only the partitions and their own objects were dropped
SELECT object_type, object_identity FROM dropped_objects ORDER BY 2, 1;
TRUNCATE dropped_objects;
-- a second run finds nothing more
CALL retention.run('events', timestamptz '2024-04-15 00:00+00');
SELECT retention.drop_policy(:ev);

-- inside a transaction block: a plain DETACH, an ACCESS EXCLUSIVE lock until the end,
-- and a ROLLBACK brings the partition back
SELECT retention.add_policy('events', '30 days', 'at') AS ev2 \gset
BEGIN;
CALL retention.run('events', timestamptz '2024-05-15 00:00+00');
SELECT mode FROM pg_locks WHERE locktype = 'relation' AND relation = 'events'::regclass
   AND pid = pg_backend_pid() AND mode = 'AccessExclusiveLock';
SELECT count(*) AS march_tables FROM pg_class WHERE relname = 'events_2024_03';
ROLLBACK;
SELECT count(*) AS march_rows FROM events_2024_03;
SELECT retention.drop_policy(:ev2);
DROP TABLE events;
TRUNCATE dropped_objects;

-- two levels: by year on the anchor, then by region; the bound of the year level counts
CREATE TABLE logs (at date NOT NULL, region text NOT NULL, msg text) PARTITION BY RANGE (at);
CREATE TABLE logs_2022 PARTITION OF logs FOR VALUES FROM ('2022-01-01') TO ('2023-01-01') PARTITION BY LIST (region);
CREATE TABLE logs_2022_eu PARTITION OF logs_2022 FOR VALUES IN ('eu');
CREATE TABLE logs_2022_other PARTITION OF logs_2022 DEFAULT;
CREATE TABLE logs_2023 PARTITION OF logs FOR VALUES FROM ('2023-01-01') TO ('2024-01-01') PARTITION BY LIST (region);
CREATE TABLE logs_2023_eu PARTITION OF logs_2023 FOR VALUES IN ('eu');
CREATE TABLE logs_2023_other PARTITION OF logs_2023 DEFAULT;
INSERT INTO logs SELECT date '2022-01-01' + g, CASE WHEN g % 3 = 0 THEN 'us' ELSE 'eu' END, 'm'
  FROM generate_series(0, 729) g;                     -- 2022-01-01 .. 2023-12-31
SELECT retention.add_policy('logs', '1 year', 'at') AS lg \gset
CALL retention.run('logs', timestamptz '2024-07-01 00:00+00');
SELECT c.relname, c.relkind, (SELECT count(*) FROM logs l WHERE l.tableoid = c.oid) AS rows
  FROM pg_class c WHERE c.relname LIKE 'logs%' AND c.relkind IN ('r', 'p') ORDER BY 1;
SELECT min(at) FROM logs;
SELECT rows, partitions, status FROM retention.runs WHERE policy_id = :lg;
SELECT retention.drop_policy(:lg);
DROP TABLE logs;

-- retention.partition_row_count = estimate: the rows of an analyzed partition are taken
-- from pg_class.reltuples instead of being counted, and the audit entry says so
CREATE TABLE sensors (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE sensors_2024_01 PARTITION OF sensors FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE sensors_2024_02 PARTITION OF sensors FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
INSERT INTO sensors SELECT timestamptz '2024-01-01' + g * interval '1 hour', g FROM generate_series(0, 999) g;
ANALYZE sensors_2024_01;
SELECT retention.add_policy('sensors', '30 days', 'at') AS sn \gset
SET retention.partition_row_count = estimate;
CALL retention.run('sensors', timestamptz '2024-04-15 00:00+00');
RESET retention.partition_row_count;
SELECT tbl, rows, details->>'rows_estimated' AS estimated FROM retention.audit
 WHERE event = 'partition_dropped' AND tbl LIKE 'public.sensors%' ORDER BY seq;
SELECT retention.drop_policy(:sn);
DROP TABLE sensors;

-- detach and keep: the partitions leave the table with their rows, into schema archive
CREATE SCHEMA archive;
CREATE TABLE calls (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE calls_2024_01 PARTITION OF calls FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE calls_2024_02 PARTITION OF calls FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
INSERT INTO calls SELECT g, timestamptz '2024-01-01' + g * interval '1 hour' FROM generate_series(0, 1415) g;
SELECT retention.add_policy('calls', '30 days', 'at', partition_action => 'detach',
                            detach_schema => 'archive') AS cl \gset
SELECT partition_action, detach_schema FROM retention.policies WHERE policy_id = :cl;
CALL retention.run('calls', timestamptz '2024-04-15 00:00+00');
SELECT n.nspname, c.relname, c.relispartition FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname LIKE 'calls%' AND c.relkind IN ('r', 'p') ORDER BY 1, 2;
SELECT (SELECT count(*) FROM calls) AS in_calls, (SELECT count(*) FROM archive.calls_2024_01) AS kept_jan,
       (SELECT count(*) FROM archive.calls_2024_02) AS kept_feb;
SELECT event, tbl, rows, details->>'kept_as' AS kept_as FROM retention.audit
 WHERE event = 'partition_detached' AND tbl LIKE 'public.calls%' ORDER BY seq;
SELECT rows, partitions, status FROM retention.runs WHERE policy_id = :cl;
SELECT retention.drop_policy(:cl);
DROP TABLE calls;

-- a partition whose rows other tables still reference (DETACH refuses) goes by rows:
-- referenced rows stay (blocked), the others go, and the run says why; once no row of it
-- is referenced, it goes whole, and the foreign key stays
CREATE TABLE invoices (id int, issued date NOT NULL, PRIMARY KEY (id, issued)) PARTITION BY RANGE (issued);
CREATE TABLE invoices_2023 PARTITION OF invoices FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE invoices_2024 PARTITION OF invoices FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE disputes (id int PRIMARY KEY, invoice int, issued date,
                       FOREIGN KEY (invoice, issued) REFERENCES invoices);
INSERT INTO invoices SELECT g, date '2023-01-01' + g * 7 FROM generate_series(0, 99) g;
INSERT INTO disputes VALUES (1, 3, date '2023-01-22');
SELECT retention.add_policy('invoices', '6 months', 'issued') AS inv \gset
CALL retention.run('invoices', timestamptz '2024-08-01 00:00+00');
SELECT tableoid::regclass AS partition, count(*) FROM invoices GROUP BY 1 ORDER BY 1;
SELECT rows, blocked, partitions, status, notes FROM retention.runs WHERE policy_id = :inv ORDER BY run_id;
DELETE FROM disputes;
CALL retention.run('invoices', timestamptz '2024-08-01 00:00+00');
SELECT tableoid::regclass AS partition, count(*) FROM invoices GROUP BY 1 ORDER BY 1;
-- a foreign key declared on a partition itself would need DROP ... CASCADE: rows instead
CREATE TABLE credit_notes (id int PRIMARY KEY, invoice int, issued date,
                           FOREIGN KEY (invoice, issued) REFERENCES invoices_2024 (id, issued));
CALL retention.run('invoices', timestamptz '2025-08-01 00:00+00');
SELECT c.relname, (SELECT count(*) FROM invoices i WHERE i.tableoid = c.oid) AS rows
  FROM pg_class c WHERE c.relname LIKE 'invoices_%' AND c.relkind = 'r' ORDER BY 1;
SELECT conrelid::regclass, conname, confrelid::regclass FROM pg_constraint
 WHERE conrelid IN ('disputes'::regclass, 'credit_notes'::regclass) AND contype = 'f' ORDER BY 1, 2;
SELECT rows, blocked, partitions, status FROM retention.runs WHERE policy_id = :inv ORDER BY run_id;
SELECT retention.drop_policy(:inv);
DROP TABLE credit_notes, disputes, invoices;

-- something else depends on an expired partition (a view on it): no DROP ... CASCADE, rows instead
CREATE TABLE metrics (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE metrics_q1 PARTITION OF metrics FOR VALUES FROM ('2024-01-01') TO ('2024-04-01');
CREATE TABLE metrics_q2 PARTITION OF metrics FOR VALUES FROM ('2024-04-01') TO ('2024-07-01');
INSERT INTO metrics SELECT timestamptz '2024-01-01' + g * interval '1 day', g FROM generate_series(0, 180) g;
CREATE VIEW q1_report AS SELECT count(*) AS n FROM metrics_q1;
SELECT retention.add_policy('metrics', '30 days', 'at') AS mt \gset
TRUNCATE dropped_objects;
CALL retention.run('metrics', timestamptz '2024-06-01 00:00+00');
SELECT (SELECT n FROM q1_report) AS q1_rows_left, (SELECT count(*) FROM metrics) AS metrics_rows;
SELECT rows, partitions, status, notes FROM retention.runs WHERE policy_id = :mt;
SELECT count(*) AS nothing_dropped FROM dropped_objects;
SELECT retention.drop_policy(:mt);
DROP VIEW q1_report;

-- a legal hold on a partition keeps it whole; released, it goes
SELECT retention.add_policy('metrics', '30 days', 'at') AS mt2 \gset
INSERT INTO metrics SELECT timestamptz '2024-01-01' + g * interval '1 day', g FROM generate_series(0, 89) g;
SELECT retention.hold_table('metrics_q1', 'tax audit 2024') AS hold \gset
CALL retention.run('metrics', timestamptz '2024-08-01 00:00+00');
SELECT tableoid::regclass AS partition, count(*) FROM metrics GROUP BY 1 ORDER BY 1;
SELECT rows, held, partitions, status FROM retention.runs WHERE policy_id = :mt2;
SELECT retention.release(:hold);
CALL retention.run('metrics', timestamptz '2024-08-01 00:00+00');
SELECT c.relname FROM pg_class c WHERE c.relname LIKE 'metrics_%' AND c.relkind = 'r' ORDER BY 1;
SELECT rows, held, partitions, status FROM retention.runs WHERE policy_id = :mt2 ORDER BY run_id;
SELECT retention.drop_policy(:mt2);
DROP TABLE metrics;

-- the bounds are a promise of the catalog; the data is checked as well.  A partition
-- attached on the strength of a CHECK constraint that its rows do not keep (a superuser
-- marked it validated) holds a NULL and a later anchor: it goes by rows, and they stay
CREATE TABLE pvisits (id int, at timestamptz) PARTITION BY RANGE (at);
CREATE TABLE pvisits_2024 PARTITION OF pvisits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE pvisits_2023 (id int, at timestamptz);
INSERT INTO pvisits_2023 VALUES (1, '2023-03-01'), (2, '2023-04-01'), (3, NULL), (4, '2024-06-01');
ALTER TABLE pvisits_2023 ADD CONSTRAINT in_2023
  CHECK (at IS NOT NULL AND at >= '2023-01-01' AND at < '2024-01-01') NOT VALID;
UPDATE pg_constraint SET convalidated = true WHERE conname = 'in_2023';
ALTER TABLE pvisits ATTACH PARTITION pvisits_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
SELECT retention.add_policy('pvisits', '1 year', 'at') AS vs \gset
CALL retention.run('pvisits', timestamptz '2025-03-01 00:00+00');
SELECT id, at FROM pvisits ORDER BY id;
SELECT rows, partitions, undated, status, notes FROM retention.runs WHERE policy_id = :vs;
SELECT retention.drop_policy(:vs);
DROP TABLE pvisits;

-- partition_action 'rows': nothing is removed whole; anonymize policies never remove partitions
CREATE TABLE clicks (id int, at timestamptz NOT NULL, ip inet) PARTITION BY RANGE (at);
CREATE TABLE clicks_2024_01 PARTITION OF clicks FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
CREATE TABLE clicks_2024_02 PARTITION OF clicks FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
INSERT INTO clicks SELECT g, timestamptz '2024-01-01' + g * interval '1 day', '192.0.2.77' FROM generate_series(0, 59) g;
SELECT retention.tag('clicks', 'ip', 'ip_address');
SELECT retention.add_policy('clicks', '10 days', 'at', 'anonymize') AS ck_anon \gset
CALL retention.run('clicks', timestamptz '2024-03-15 00:00+00');
SELECT tableoid::regclass AS partition, count(*), min(ip), max(ip) FROM clicks GROUP BY 1 ORDER BY 1;
SELECT retention.add_policy('clicks', '10 days', 'at', partition_action => 'rows') AS ck \gset
CALL retention.run('clicks', timestamptz '2024-03-15 00:00+00');
SELECT c.relname, (SELECT count(*) FROM clicks k WHERE k.tableoid = c.oid) AS rows
  FROM pg_class c WHERE c.relname LIKE 'clicks_%' AND c.relkind = 'r' ORDER BY 1;
SELECT policy_id = :ck AS rows_policy, rows, partitions FROM retention.runs
 WHERE policy_id IN (:ck_anon, :ck) ORDER BY run_id;

-- the options, and what is refused
SELECT retention.alter_policy(:ck, partition_action => 'detach', detach_schema => 'archive');
SELECT partition_action, detach_schema FROM retention.policies WHERE policy_id = :ck;
SELECT retention.alter_policy(:ck, detach_schema => '');
SELECT partition_action, detach_schema FROM retention.policies WHERE policy_id = :ck;
SELECT retention.alter_policy(:ck, partition_action => 'truncate');
SELECT retention.alter_policy(:ck, partition_action => 'drop', detach_schema => 'archive');
SELECT retention.add_policy('clicks', '20 days', 'at', partition_action => 'detach', detach_schema => 'nowhere');
CREATE ROLE perf_clerk;
ALTER TABLE clicks OWNER TO perf_clerk;
SET ROLE perf_clerk;
SELECT retention.alter_policy(:ck, partition_action => 'detach', detach_schema => 'archive');
RESET ROLE;
SELECT retention.drop_policy(:ck);
SELECT retention.drop_policy(:ck_anon);
DROP TABLE clicks;
DROP ROLE perf_clerk;
DROP EVENT TRIGGER perf_log_dropped;
DROP FUNCTION log_dropped();
DROP TABLE dropped_objects;
DROP SCHEMA archive CASCADE;
