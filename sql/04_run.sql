-- preview and run: counts, batches, foreign keys, NULL anchors, time zones, partitions
SET timezone = 'UTC';
-- policy ids of this file start at 401, whatever the files before it did
SELECT setval('retention.policy_catalog_policy_id_seq', 400) IS NOT NULL AS ids_pinned;
CREATE TABLE accounts (id int PRIMARY KEY, closed_at timestamptz);
CREATE TABLE orders (id int PRIMARY KEY, account_id int REFERENCES accounts ON DELETE RESTRICT);
CREATE TABLE sessions (id int PRIMARY KEY, account_id int REFERENCES accounts ON DELETE CASCADE);
-- 80 closed accounts (closed 2022-01-02 .. 2022-03-22), 20 still open (NULL anchor)
INSERT INTO accounts SELECT g, CASE WHEN g <= 80 THEN timestamptz '2022-01-01' + g * interval '1 day' END
  FROM generate_series(1, 100) g;
INSERT INTO orders SELECT g, g FROM generate_series(1, 10) g;          -- keep accounts 1..10
INSERT INTO sessions SELECT g, g FROM generate_series(11, 20) g;       -- go with accounts 11..20
SELECT retention.add_policy('accounts', '1 year', 'closed_at', batch_size => 7) AS acc \gset
-- as of 2023-02-15 the cutoff is 2022-02-15: accounts 1..44 have expired, 10 of them still have orders
SELECT action, cutoff, rows_due, rows_on_hold, rows_undated, rows_blocked
  FROM retention.preview(timestamptz '2023-02-15 00:00+00');
-- the plain-SQL truth the preview must match
SELECT count(*) FILTER (WHERE closed_at < '2022-02-15') AS expired,
       count(*) FILTER (WHERE closed_at < '2022-02-15' AND id IN (SELECT account_id FROM orders)) AS referenced,
       count(*) FILTER (WHERE closed_at IS NULL) AS open
  FROM accounts;
CALL retention.run('accounts', timestamptz '2023-02-15 00:00+00');
SELECT count(*) AS accounts_left, min(id) AS lowest, (SELECT count(*) FROM sessions) AS sessions_left,
       (SELECT count(*) FROM orders) AS orders_left
  FROM accounts;
SELECT policy_id = :acc AS ours, tbl, action, as_of, cutoff, rows, batches, blocked, skipped_locked,
       undated, status, error, trigger
  FROM retention.runs ORDER BY run_id;
-- a second run deletes nothing more
CALL retention.run('accounts', timestamptz '2023-02-15 00:00+00');
SELECT count(*) AS accounts_left FROM accounts;
SELECT rows, blocked, undated, status FROM retention.runs ORDER BY run_id DESC LIMIT 1;
-- a run inside a transaction block shares its transaction: ROLLBACK undoes it, record included
BEGIN;
CALL retention.run('accounts', timestamptz '2023-03-31 00:00+00');
SELECT count(*) AS accounts_inside FROM accounts;
ROLLBACK;
SELECT count(*) AS accounts_after_rollback, (SELECT count(*) FROM retention.runs) AS runs FROM accounts;
-- a disabled policy does not run
SELECT retention.alter_policy(:acc, enabled => false);
CALL retention.run();
SELECT count(*) AS accounts_left FROM accounts;
SELECT retention.drop_policy(:acc);

-- anchors of type date and timestamp, and the time zone of the cutoff
CREATE TABLE page_views (id int PRIMARY KEY, day date, local_time timestamp);
INSERT INTO page_views SELECT g, date '2022-03-05' + g, timestamp '2022-03-08 00:00' + g * interval '2 hours'
  FROM generate_series(1, 24) g;
-- a date stands for its whole day: with the cutoff at 2022-03-09 12:00 the 8th has expired, the 9th not
SELECT retention.add_policy('page_views', '1 day', 'day', time_zone => 'UTC') AS vd \gset
SELECT cutoff, rows_due FROM retention.preview(timestamptz '2022-03-10 12:00+00');
SELECT count(*) AS truth FROM page_views WHERE day < date '2022-03-09';
SELECT retention.drop_policy(:vd);
-- a timestamp anchor is read in the policy's zone: 2022-03-10 00:00 UTC is 08:00 in Shanghai
SELECT retention.add_policy('page_views', '1 day', 'local_time', time_zone => 'Asia/Shanghai') AS vt \gset
SELECT cutoff, rows_due FROM retention.preview(timestamptz '2022-03-10 00:00+00');
SELECT count(*) AS truth FROM page_views WHERE local_time < timestamp '2022-03-09 08:00';
-- "1 day" is a calendar day in the policy's zone: across the DST change in New York it is 23 hours
SELECT retention.alter_policy(:vt, time_zone => 'America/New_York');
SELECT cutoff, timestamptz '2022-03-13 15:00+00' - cutoff AS window
  FROM retention.preview(timestamptz '2022-03-13 15:00+00');
SET timezone = 'Asia/Tokyo';  -- the session's zone does not matter
SELECT cutoff AT TIME ZONE 'UTC' AS cutoff_utc FROM retention.preview(timestamptz '2022-03-13 15:00+00');
SET timezone = 'UTC';
SELECT retention.drop_policy(:vt);

-- a partitioned table: every partition is covered, also one attached after the policy
CREATE TABLE readings (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE readings_jan PARTITION OF readings FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
CREATE TABLE readings_feb PARTITION OF readings FOR VALUES FROM ('2022-02-01') TO ('2022-03-01');
INSERT INTO readings SELECT timestamptz '2022-01-01' + g * interval '1 hour', g FROM generate_series(0, 1415) g;
SELECT retention.add_policy('readings', '30 days', 'at') AS rd \gset
CREATE TABLE readings_mar (LIKE readings);
INSERT INTO readings_mar SELECT timestamptz '2022-03-01' + g * interval '1 hour', g FROM generate_series(0, 99) g;
ALTER TABLE readings ATTACH PARTITION readings_mar FOR VALUES FROM ('2022-03-01') TO ('2022-04-01');
SELECT rows_due FROM retention.preview(timestamptz '2022-04-01 00:00+00');
SELECT count(*) AS truth FROM readings WHERE at < timestamptz '2022-03-02 00:00+00';
CALL retention.run('readings', timestamptz '2022-04-01 00:00+00');
SELECT tableoid::regclass AS partition, count(*), min(at) FROM readings GROUP BY 1 ORDER BY 1;
SELECT retention.drop_policy(:rd);

-- status: rows overdue now, the last run and the last success
CREATE TABLE logins (id int PRIMARY KEY, at timestamptz);
INSERT INTO logins SELECT g, now() - g * interval '1 day' FROM generate_series(1, 50) g;
INSERT INTO logins VALUES (51, NULL);
SELECT retention.add_policy('logins', '30 days', 'at') AS lg \gset
SELECT tbl, action, keep, enabled, rows_overdue, rows_undated, now() - oldest_overdue > interval '49 days' AS oldest_ok,
       last_run, last_status, last_success, next_run
  FROM retention.status;
CALL retention.run('logins');
SELECT tbl, rows_overdue, rows_undated, oldest_overdue, last_run IS NOT NULL AS ran, last_status,
       last_success >= last_run AS success_recorded
  FROM retention.status;
SELECT retention.drop_policy(:lg);

-- a policy runs as the owner of its table, never as the calling superuser, with a safe search_path
CREATE ROLE retention_app;
CREATE TABLE app_log (who name, path text);
GRANT INSERT ON app_log TO retention_app;
CREATE TABLE app_secrets (secret text);
INSERT INTO app_secrets VALUES ('only the superuser reads this');
CREATE TABLE app_data (id int, at timestamptz, peek boolean DEFAULT false);
ALTER TABLE app_data OWNER TO retention_app;
CREATE FUNCTION public.note_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.app_log VALUES (current_user, current_setting('search_path'));
    IF OLD.peek THEN
        PERFORM count(*) FROM public.app_secrets;
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER note BEFORE DELETE ON app_data FOR EACH ROW EXECUTE FUNCTION public.note_delete();
INSERT INTO app_data VALUES (1, '2020-01-01'), (2, '2020-01-02');
SELECT retention.add_policy('app_data', '1 year', 'at') AS app \gset
CALL retention.run('app_data', '2022-01-01');
SELECT who, path, count(*) FROM app_log GROUP BY 1, 2;
-- a trigger that reads what the owner may not read makes the run fail, recorded as such
INSERT INTO app_data VALUES (3, '2020-01-03', true);
CALL retention.run('app_data', '2022-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, status, error FROM retention.runs WHERE policy_id = :app ORDER BY run_id;
SELECT count(*) AS kept FROM app_data;
SELECT retention.drop_policy(:app);
DROP TABLE app_data, app_log, app_secrets;
DROP FUNCTION public.note_delete();
DROP ROLE retention_app;
