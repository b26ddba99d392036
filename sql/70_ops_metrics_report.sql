-- Operations: retention.metrics, erasure deadlines and retention.report().
-- Every series and every line of the report is checked against what the tables
-- hold; nothing reads as "nothing overdue" when rows are overdue, could not be
-- counted, are hidden from the owner, or no scheduler runs (here: the library is
-- not preloaded).
\set regress_db :DBNAME
CREATE DATABASE regress_rt_ops;
\c regress_rt_ops
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
RESET client_min_messages;
-- metric values with times rounded to days, policy labels flattened
CREATE FUNCTION m(name_like text) RETURNS TABLE (metric text, policy text, value double precision)
LANGUAGE sql AS $$
    SELECT m.metric, m.labels->>'policy_id' || ' ' || (m.labels->>'table') || ' ' || (m.labels->>'action'),
           CASE WHEN m.metric LIKE '%seconds' THEN round(m.value / 86400) ELSE m.value END
      FROM retention.metrics m WHERE m.metric LIKE name_like
     ORDER BY m.metric, (m.labels->>'policy_id')::int $$;
-- the lines of an EXPLAIN ANALYZE, to see which parts of the view ran
CREATE FUNCTION plan_lines(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        RETURN NEXT trim(l);
    END LOOP;
END $$;

-- customers, their rentals (a foreign key), and a subject kind for erasures and holds
CREATE TABLE customer (customer_id int PRIMARY KEY, email text, closed_at timestamptz);
CREATE TABLE rental (rental_id int PRIMARY KEY, customer_id int REFERENCES customer, returned timestamptz);
INSERT INTO customer SELECT g, 'c' || g || '@example.org',
       CASE WHEN g <= 4 THEN now() - interval '400 days' END FROM generate_series(1, 10) g;
-- rentals 1-6 returned 100 days ago, 7-10 last week, 11 not yet
INSERT INTO rental SELECT g, 1 + g % 5, now() - interval '100 days' FROM generate_series(1, 6) g;
INSERT INTO rental SELECT g, 1 + g % 5, now() - interval '7 days' FROM generate_series(7, 10) g;
INSERT INTO rental VALUES (11, 5, NULL);
SELECT retention.tag('customer', 'email', 'email');
SELECT retention.add_subject('customer', 'customer', 'customer_id');
SET client_min_messages = warning;
SELECT retention.add_policy('rental', '90 days', 'returned', basis => 'rentals: 90 days after return') AS p_rental \gset
-- customers closed over a year ago go, unless a rental still needs them
SELECT retention.add_policy('customer', '1 year', 'closed_at', basis => 'closed accounts: 1 year') AS p_customer \gset
SELECT retention.add_policy('customer', '30 days', 'closed_at', 'anonymize') AS p_off \gset
RESET client_min_messages;
SELECT retention.alter_policy(:p_off, enabled => false);

-- before any run: everything due is overdue, except what a key needs or a hold keeps
SELECT retention.hold('customer', '2', 'dispute 2026/4') AS h_two \gset
SELECT * FROM m('retention_policy_%');
-- the scheduler is not running here (library not preloaded): said so, not hidden
SELECT metric, labels, value FROM retention.metrics WHERE metric LIKE 'retention_scheduler%';
SELECT * FROM retention.scheduler_state();
-- a query for some names runs neither the policy counts nor the other branches
SELECT l FROM plan_lines($$SELECT * FROM retention.metrics WHERE metric = 'retention_holds_active'$$) l
 WHERE l LIKE '%policy_metrics%' OR l LIKE '%erasure_ledger%' OR l LIKE '%hold_catalog%';
SELECT l FROM plan_lines($$SELECT * FROM retention.metrics WHERE metric LIKE 'retention\_policy\_%'$$) l
 WHERE l LIKE '%policy_metrics%' OR l LIKE '%erasure_ledger%';

-- a run: overdue goes to 0, held rows stay, seconds since success start again
CALL retention.run('rental');
SELECT * FROM m('retention_policy_rows_%') WHERE policy LIKE :'p_rental' || ' %';
SELECT metric, value < 60 AS just_now FROM retention.metrics
 WHERE metric = 'retention_policy_last_success_seconds' AND labels->>'policy_id' = :'p_rental';
-- customers 1-4 closed over a year ago: 2 is held, the rentals left still need 1, 3 and 4
SELECT * FROM m('retention_policy_rows_overdue');

-- a failed run and an incomplete one are counted until the next success
CREATE TABLE audit_log (id int PRIMARY KEY, at timestamptz);
INSERT INTO audit_log SELECT g, now() - interval '2 years' FROM generate_series(1, 3) g;
CREATE FUNCTION keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER keep_rows BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION keep_rows();
SET client_min_messages = warning;
SELECT retention.add_policy('audit_log', '1 year', 'at') AS p_log \gset
RESET client_min_messages;
\set VERBOSITY terse
CALL retention.run('audit_log');
CALL retention.run('audit_log');
\set VERBOSITY default
CREATE ROLE regress_ops_owner;
CREATE TABLE notes (id int PRIMARY KEY, tenant int, at timestamptz);
ALTER TABLE notes OWNER TO regress_ops_owner;
INSERT INTO notes SELECT g, g % 2, now() - interval '2 years' FROM generate_series(1, 10) g;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_one ON notes USING (tenant = 1);
SET client_min_messages = warning;
SELECT retention.add_policy('notes', '1 year', 'at') AS p_notes \gset
RESET client_min_messages;
\set VERBOSITY terse
CALL retention.run('notes');
\set VERBOSITY default
SELECT * FROM m('retention_policy_runs_%') WHERE value > 0;
SELECT * FROM m('retention_policy_rows_left') WHERE value > 0;
-- rows row security hides from the owner are past their period too: hidden, not overdue
SELECT * FROM m('retention_policy_rows_hidden') WHERE value > 0;
-- a policy that cannot be counted says so; its counts are absent, not zero
CREATE TABLE visits (id int PRIMARY KEY, at timestamptz);
ALTER TABLE visits OWNER TO regress_ops_owner;
INSERT INTO visits VALUES (1, now() - interval '2 years');
CREATE FUNCTION refuse() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'visits are not countable'; END $$;
ALTER TABLE visits ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY refuse ON visits USING (refuse());
SET client_min_messages = warning;
SELECT retention.add_policy('visits', '1 year', 'at') AS p_visits \gset
RESET client_min_messages;
SELECT * FROM m('retention_policy_%') WHERE policy LIKE :'p_visits' || ' %';
SELECT policy_id, counted, count_error FROM retention.policy_metrics() WHERE policy_id = :p_visits;
DROP POLICY refuse ON visits;

-- erasure deadlines: each request is due when it is received plus the deadline
SHOW retention.erasure_deadline;
SELECT action, rows FROM retention.erase_subject('customer', '2') ORDER BY 1;
SELECT action, rows FROM retention.erase_subject('customer', '6') ORDER BY 1;
SELECT kind, status, due_at = requested_at + interval '1 month' AS a_month_after, late
  FROM retention.erasures ORDER BY requested_at, status;
SELECT metric, value FROM retention.metrics WHERE metric LIKE 'retention_erasures%' ORDER BY metric;
-- a month later (the request's times moved back), the pending one is past its deadline
UPDATE retention.erasure_ledger SET requested_at = requested_at - interval '40 days', due_at = due_at - interval '40 days'
 WHERE status = 'pending';
SELECT status, late FROM retention.erasures ORDER BY status;
SELECT metric, value FROM retention.metrics WHERE metric LIKE 'retention_erasures%' ORDER BY metric;
-- the deadline is a superuser setting: between a day and a year, with its unit
SET retention.erasure_deadline = '30 days';
SELECT action, rows FROM retention.erase_subject('customer', '7') ORDER BY 1;
SELECT due_at - requested_at AS deadline FROM retention.erasures ORDER BY requested_at DESC LIMIT 1;
SET retention.erasure_deadline = '30';
SET retention.erasure_deadline = 'a month';
SET retention.erasure_deadline = '2 years';
SET retention.erasure_deadline = '1 month -5 days';
SHOW retention.erasure_deadline;
RESET retention.erasure_deadline;
-- an export carries the due time; an entry of an older export gets its request time plus the deadline
SELECT bool_and(e ? 'due_at') AS due_exported FROM jsonb_array_elements(retention.export_erasures()) e;
SELECT retention.import_erasures('[{"erasure_id": "00000000-0000-0000-0000-000000000016", "kind": "customer",
  "subject_hash": null, "key_fingerprint": null, "requested_at": "2026-01-31 10:00:00+00", "requested_by": "dpo",
  "status": "done", "completed_at": "2026-02-02 10:00:00+00", "rows": 3}]');
SELECT due_at, late, applied_here FROM retention.erasures WHERE erasure_id = '00000000-0000-0000-0000-000000000016';
SELECT metric, value FROM retention.metrics WHERE metric = 'retention_erasures_not_applied';

-- holds, and audit entries no anchor covers yet
SELECT metric, value FROM retention.metrics WHERE metric = 'retention_holds_active';
SELECT value = (SELECT count(*) FROM retention.audit) AS entries_counted
  FROM retention.metrics WHERE metric = 'retention_audit_entries';
SELECT value = (SELECT count(*) FROM retention.audit) AS none_anchored
  FROM retention.metrics WHERE metric = 'retention_audit_unanchored';
SELECT seq > 0 AS given_out FROM retention.audit_anchor();
SELECT value FROM retention.metrics WHERE metric = 'retention_audit_unanchored';
SELECT retention.alter_policy(:p_rental, basis => 'rentals: 90 days after return (tax)');
SELECT value FROM retention.metrics WHERE metric = 'retention_audit_unanchored';
SELECT via, seq = (SELECT max(seq) FROM retention.audit) - 1 AS the_head_then FROM retention.audit_anchor_log;
-- on a read-only transaction the anchor is given out all the same, but not noted
BEGIN TRANSACTION READ ONLY;
SELECT seq > 0 AS given_out FROM retention.audit_anchor();
COMMIT;
SELECT count(*) AS noted FROM retention.audit_anchor_log;

-- who may read them: auditors and officers; others get 42501, also through the functions
CREATE ROLE regress_ops_stranger;
CREATE ROLE regress_ops_auditor IN ROLE retention_auditor;
CREATE ROLE regress_ops_monitor;
GRANT SELECT ON retention.metrics TO regress_ops_monitor;
SET ROLE regress_ops_stranger;
-- nor may anyone but a superuser lengthen the erasure deadline
SET retention.erasure_deadline = '1 year';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM retention.metrics;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM retention.policy_metrics();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.scheduler_state();
\echo :LAST_ERROR_SQLSTATE
SELECT length(retention.report()) > 0;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- an auditor counts every table, also those it may not read
SET ROLE regress_ops_auditor;
SELECT has_table_privilege('notes', 'SELECT') AS reads_notes,
       (SELECT value FROM retention.metrics WHERE metric = 'retention_policy_rows_hidden'
         AND labels->>'policy_id' = :'p_notes') AS notes_hidden;
SELECT length(retention.report()) > 1000 AS reported;
RESET ROLE;
-- a monitoring role granted SELECT on the view, and nothing else, reads the metrics
SET ROLE regress_ops_monitor;
SELECT count(*) > 20 AS series FROM retention.metrics;
SELECT length(retention.report()) > 0;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- the report: bad formats
SELECT retention.report(NULL);
SELECT retention.report('pdf');
-- the Markdown document, its times, dates, hashes and erasure ids left out
SELECT retention.alter_policy(:p_customer, basis => 'closed accounts | 1 year *legal* <b>hold</b>');
SET intervalstyle = sql_standard;
SELECT regexp_replace(regexp_replace(regexp_replace(regexp_replace(line,
         '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00', 'TIME', 'g'), '\\\\x[0-9a-f]{64}', 'HASH', 'g'),
         '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', 'UUID', 'g'), '\d{4}-\d\d-\d\d', 'DATE', 'g') AS line
  FROM regexp_split_to_table(retention.report(), E'\n') WITH ORDINALITY AS l(line, n)
 WHERE line <> '' AND line !~ '^\| \d{4}-\d\d-\d\d \| 0 \| 0 \|$'
 ORDER BY n;
RESET intervalstyle;
-- the audit chain broken behind the guard's back: the report says so, naming the entry
SELECT COALESCE(rows::text, '') AS rows3 FROM retention.audit WHERE seq = 3 \gset
ALTER TABLE retention.audit DISABLE TRIGGER USER;
UPDATE retention.audit SET rows = 99 WHERE seq = 3;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only, ENABLE ALWAYS TRIGGER audit_no_truncate;
SELECT regexp_replace(regexp_replace(line, '\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00', 'TIME', 'g'), '\\\\x[0-9a-f]{64}', 'HASH', 'g') AS line
  FROM regexp_split_to_table(retention.report(), E'\n') line WHERE line ~ 'chain';
ALTER TABLE retention.audit DISABLE TRIGGER USER;
UPDATE retention.audit a SET rows = NULLIF(:'rows3', '')::bigint WHERE seq = 3;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only, ENABLE ALWAYS TRIGGER audit_no_truncate;
SELECT ok FROM retention.verify_audit();
-- the HTML page: self-contained, escaped, with its chart
SELECT retention.report('html') AS html \gset
SELECT :'html' LIKE '<!DOCTYPE html>%' AS doctype,
       :'html' LIKE '%Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''"%' AS csp,
       :'html' ~ '(src=|href=|url\(|@import|<script|<link|<img)' AS loads_anything,
       :'html' LIKE '%closed accounts | 1 year *legal* &lt;b&gt;hold&lt;/b&gt;%' AS basis_escaped,
       :'html' LIKE '%<svg xmlns="http://www.w3.org/2000/svg"%</svg>%' AS chart,
       :'html' LIKE '%</html>' || chr(10) AS complete;
-- the chart's bar for this week is what the audit trail says was deleted this week
SELECT (regexp_match(:'html', '<title>week of ' || to_char(date_trunc('week', now()), 'YYYY-MM-DD')
                              || ': (\d+) deleted</title>'))[1]::bigint
       = (SELECT sum(rows) FROM retention.audit WHERE event = 'run' AND details->>'action' = 'delete'
            AND at >= date_trunc('week', now())) AS bar_is_the_audit;

\c :regress_db
DROP DATABASE regress_rt_ops;
DROP ROLE regress_ops_owner, regress_ops_stranger, regress_ops_auditor, regress_ops_monitor;
