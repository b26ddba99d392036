/* pg_retention--0.2.0--0.3.0.sql: from 0.2.0 to 0.3.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.3.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql, then the 0.1.0--0.2.0 script
-- and this one, in one transaction; ALTER EXTENSION ... UPDATE runs what a
-- database lacks.  Every SQL change after 0.2.0 goes here, so that a database
-- created with 0.1.0 or 0.2.0 reaches the same objects as a new one
-- (tests/t/603_upgrade.pl compares them).

------------------------------------------------------------------------
-- Runs check their own result: the status incomplete, the rows left and why
------------------------------------------------------------------------

-- After its batches a run counts what is still due in the table as it is
-- then (docs/operations.md "What pg_retention checks after each run and
-- erasure").  Rows nothing explains (row-level security hides them from the
-- owner, they came back, a trigger copied them where no policy reaches) end
-- the run as incomplete, with their count and the cause.
ALTER TABLE retention.run_history DROP CONSTRAINT run_history_status_check;
ALTER TABLE retention.run_history ADD CONSTRAINT run_history_status_check
    CHECK (status IN ('running', 'success', 'failed', 'interrupted', 'incomplete'));
ALTER TABLE retention.run_history
    ADD COLUMN rows_left bigint NOT NULL DEFAULT 0,
    ADD COLUMN cause text;

DROP VIEW retention.runs;

-- a run's error can quote its table's data: each role sees the runs of tables it may read
CREATE VIEW retention.runs AS
    SELECT run_id, policy_id, tbl, action, as_of, cutoff, started_at, finished_at,
           rows, batches, blocked, skipped_locked, undated, held, refused, status, error, run_by, trigger,
           partitions, notes, rows_left, cause
      FROM retention.run_history h
     WHERE COALESCE(pg_catalog.has_table_privilege(h.relid, 'SELECT'), false)
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) 'retention_auditor'
                      AND pg_catalog.pg_has_role(r.oid, 'MEMBER'))
        OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CURRENT_USER);

COMMENT ON VIEW retention.runs IS
'One row per policy run: cutoff, start and end, rows deleted or anonymized, batches, rows blocked by foreign keys, rows skipped because other sessions locked them, rows with a NULL anchor, rows a legal hold kept, rows refused (a constraint, a trigger that returned NULL or a DO INSTEAD rule would not let them be deleted or masked; the run is then failed), status (running, success, failed, interrupted, incomplete), the error of a failed run; partitions removed whole and notes; rows_left, the expired rows still in the table after the run that nothing above explains, and cause, why (row-level security, a rewrite, a trigger copying rows where no policy reaches): such a run is incomplete.';

GRANT SELECT ON retention.runs TO PUBLIC;

-- preview says what it cannot see: expired rows row-level security hides from the owner
DROP FUNCTION retention.preview(timestamptz);

CREATE FUNCTION retention.preview(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (policy_id bigint, tbl regclass, action text, cutoff timestamptz,
               rows_due bigint, rows_on_hold bigint, rows_undated bigint, rows_blocked bigint,
               rows_hidden bigint)
AS 'MODULE_PATHNAME', 'retention_preview'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.preview(timestamptz) IS
'What each enabled policy would do as of as_of, changing nothing: cutoff, rows past it (rows_due), rows held by a legal hold, rows with a NULL anchor (never expire), rows_blocked, the part of rows_due that foreign keys still need, and rows_hidden, expired rows that row-level security forced on the table owner hides from the engine (a run cannot remove them; not part of rows_due). Lists policies on tables the caller may SELECT from. Errors: 22004 as_of NULL.';

COMMENT ON PROCEDURE retention.run(regclass, timestamptz) IS
'Applies the enabled policies of tbl (NULL: of every table the caller owns) as of as_of, in batches of retention.batch_size rows, one transaction per batch (outside a transaction block), then checks each run against the table as it is afterwards, and reports counts as NOTICEs. Errors: 42501 not the owner of tbl, 42704 tbl has no enabled policy, 22004 as_of NULL; a failed policy (refused rows: 09000 a trigger returned NULL, 55000 a DO INSTEAD rule, or the refusal''s own SQLSTATE) is recorded in retention.runs and re-raised at the end; an incomplete one (expired rows nothing explains are left: row-level security, copies, concurrent changes) is re-raised with 55000.';

-- ---------------------------------------------------------------------------
-- 0.3.0: the text masks see the decimal digits of every script
-- (docs/reference.md#masks-and-the-pseudonymization-key).  An index whose
-- expressions or predicate call one of them -- above all the partial index
-- retention.index_advice() gives for an anonymize policy, which holds the rows
-- still to anonymize -- was built by the library before, which took a value in
-- full-width or other non-ASCII digits for masked already and left such rows
-- out of it.  Each is rebuilt here (REINDEX locks its table against writes
-- while it runs); one the updating role does not own is named in a WARNING
-- with the statement to run (docs/operations.md#masks).
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    idx record;
BEGIN
    FOR idx IN
        SELECT DISTINCT i.oid::pg_catalog.regclass AS name, i.relowner
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class i ON i.oid OPERATOR(pg_catalog.=) d.objid
         WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
           AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND i.relkind OPERATOR(pg_catalog.=) 'i'
           AND d.refobjid OPERATOR(pg_catalog.=) ANY (ARRAY[
                 'retention.mask_phone(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_card(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_national_id(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_email(pg_catalog.text)'::pg_catalog.regprocedure,
                 'retention.mask_partial(pg_catalog.text, pg_catalog.int4, pg_catalog.int4, pg_catalog.text)'::pg_catalog.regprocedure
               ]::pg_catalog.oid[])
    LOOP
        IF pg_catalog.pg_has_role(idx.relowner, 'USAGE') THEN
            EXECUTE pg_catalog.format('REINDEX INDEX %s', idx.name);
        ELSE
            RAISE WARNING 'index % calls a text mask of pg_retention and was built by an older library', idx.name
                USING DETAIL = 'It may leave out rows whose digits are not ASCII, which runs would then not anonymize.',
                      HINT = pg_catalog.format('Its owner should run: REINDEX INDEX CONCURRENTLY %s;', idx.name);
        END IF;
    END LOOP;
END
$$;

-- The guards hold in every session_replication_role, and the schema keeps its name
------------------------------------------------------------------------

-- With session_replication_role = replica, PostgreSQL fires only the triggers
-- and event triggers marked ENABLE REPLICA or ENABLE ALWAYS: a session (or a
-- role or database set to replica) could otherwise drop a policy's anchor
-- column, drop a table without its policies going, or rewrite the audit trail.
ALTER EVENT TRIGGER retention_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER retention_ddl_end ENABLE ALWAYS;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_no_truncate;

CREATE FUNCTION retention.on_ddl_start()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'retention_on_ddl_start'
LANGUAGE C;

COMMENT ON FUNCTION retention.on_ddl_start() IS
'Event trigger on ddl_command_start: refuses renaming schema retention or an object in it and moving such an object to another schema (SQLSTATE 0A000; the extension names them in its code, and the event triggers every ALTER TABLE fires read them), and giving the schema or its objects to a role that is not a superuser, or granting such a role CREATE on the schema (42501).';

REVOKE ALL ON FUNCTION retention.on_ddl_start() FROM PUBLIC;

CREATE EVENT TRIGGER retention_ddl_start ON ddl_command_start
    WHEN TAG IN ('ALTER SCHEMA', 'ALTER TABLE', 'ALTER VIEW', 'ALTER SEQUENCE', 'ALTER INDEX',
                 'ALTER FUNCTION', 'ALTER PROCEDURE', 'ALTER ROUTINE', 'ALTER TRIGGER', 'ALTER TYPE',
                 'GRANT')
    EXECUTE FUNCTION retention.on_ddl_start();
ALTER EVENT TRIGGER retention_ddl_start ENABLE ALWAYS;

-- Truthful erasures (docs/reference.md#erasure): an erasure is done only when the subject is
-- really gone, a replay says 'incomplete' when it is not, and an access request never
-- answers with rows row-level security hid.  Only the functions' comments change.
COMMENT ON FUNCTION retention.erase_subject(text, text) IS
'Erases one data subject from every table of its graph in one transaction, children first: rows are deleted, or anonymized where a table''s anonymize policy says they must be kept, and where other rows still reference them (a deletion never cascades into kept, held or other subjects'' rows; a shared row such as an address goes only when nothing references it). Rows triggers copy into tables of the graph (a linked history table) are erased in further passes. Afterwards the subject''s rows are counted again: anything left but masked kept rows fails the erasure, which then changes and records nothing. Returns what was done per table; an unknown id gives zero rows. A subject under a legal hold, or sharing a row with a held subject of any kind, or in a held table, is not touched: the erasure is recorded as pending and carried out when the holds end. Recorded in the erasure ledger by a keyed hash. For superusers and members of retention_officer. Errors: 42501, 42704 unknown kind, 22P02 invalid id, 55000 the erasure would be pending but neither a key nor a hold on the subject itself could find the subject again, or track_counts is off while the graph has triggers, RTE01 rows of the subject are left (a soft-delete trigger, a DO INSTEAD rule, row-level security), RTE02 a trigger copied rows out of the graph, RTE03 triggers keep copying rows into it.';

COMMENT ON FUNCTION retention.replay_erasures() IS
'Applies the ledger entries not applied in this database yet (after a restore and import_erasures) and the pending ones whose holds ended: finds each subject again by hashing the keys of its table, and erases it. result: erased, held, absent, incomplete (the subject is still there after the erasure: WARNING with the cause, the entry stays waiting), wrong_key (recorded with another key: WARNING, the entry stays waiting), pending_elsewhere (imported while still pending where it was made), unknown_kind (no such kind here: WARNING, the entry stays waiting). rows is NULL for subjects erased together in one pass (no hold active; one audit entry erasures_replayed). Errors: 42501, 55000 no key (the key the erasures were recorded with is needed).';

COMMENT ON FUNCTION retention.subject_data(text, text) IS
'Everything the database holds about one data subject, as one jsonb document grouped by table, with each table''s personal columns and their categories: the answer to an access or portability request. Never partial: rows row-level security hides from the owners the tables are read as fail the request. For superusers and members of retention_officer. Errors: 42501 not allowed, 42704 unknown kind, 22P02 id not a valid key, RTA01 the document would lack rows row-level security hides.';

------------------------------------------------------------------------
-- Operations: erasure deadlines, anchors given out, retention.metrics and
-- the compliance report (docs/operations.md#monitoring,
-- docs/reference.md#operations)
------------------------------------------------------------------------

-- Each erasure request gets its due time when it is received: its request
-- time plus retention.erasure_deadline ('1 month' unless set).  Entries made
-- before 0.3.0 get theirs from the deadline in force when the update runs.
ALTER TABLE retention.erasure_ledger ADD COLUMN due_at timestamptz;
UPDATE retention.erasure_ledger
   SET due_at = requested_at OPERATOR(pg_catalog.+)
       COALESCE(NULLIF(pg_catalog.current_setting('retention.erasure_deadline', true), ''),
                '1 month')::pg_catalog.interval;
ALTER TABLE retention.erasure_ledger ALTER COLUMN due_at SET NOT NULL;

DROP VIEW retention.erasures;

CREATE VIEW retention.erasures AS
    SELECT erasure_id, kind, pg_catalog.encode(subject_hash, 'hex') AS subject_hash, key_fingerprint,
           requested_at, requested_by, status, waiting_for, completed_at, rows, applied_here,
           due_at,
           CASE WHEN status OPERATOR(pg_catalog.=) 'pending'
                THEN pg_catalog.now() OPERATOR(pg_catalog.>) due_at
                ELSE completed_at OPERATOR(pg_catalog.>) due_at END AS late
      FROM retention.erasure_ledger;

COMMENT ON VIEW retention.erasures IS
'The erasure ledger: every erasure, naming its subject by a keyed BLAKE2b hash (never the id), its status (pending while a legal hold lasts, done), the holds it waits for, when it was carried out here; due_at, when it must be carried out (the request time plus retention.erasure_deadline then in force), and late: pending past due_at now, or carried out after it.';

GRANT SELECT ON retention.erasures TO retention_officer, retention_auditor;

-- Anchors of the audit chain given out (the worker's log lines, calls of
-- retention.audit_anchor(), reports), so that the metrics can count the entries no
-- anchor covers yet and the report can name the latest.  A reminder, not a
-- proof: whoever can rewrite the audit can rewrite this table too.
CREATE TABLE retention.audit_anchor_log (
    seq   bigint NOT NULL,
    hash  bytea NOT NULL,
    at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    via   text NOT NULL CHECK (via IN ('log', 'call', 'report')),
    PRIMARY KEY (seq, via)
);

COMMENT ON TABLE retention.audit_anchor_log IS
'Audit anchors given out: the seq and hash of the newest audit entry when the database worker wrote it to the server log (via log), retention.audit_anchor() returned it (via call) or a retention.report() carried it (via report), and when. Read by retention.metrics (retention_audit_unanchored) and retention.report(); an anchor proves something only where it is kept outside the database.';

SELECT pg_catalog.pg_extension_config_dump('retention.audit_anchor_log', '');

REVOKE ALL ON retention.audit_anchor_log FROM PUBLIC;

COMMENT ON FUNCTION retention.audit_anchor() IS
'The newest entry of retention.audit: its seq and its 32-byte BLAKE2b hash (0 and NULL for an empty trail). Keep the pair outside the database (a ticket, a report, another system); retention.verify_audit(seq, hash) later fails if the trail up to that entry was rewritten, even by a superuser who recomputed the chain. The database worker also writes it to the server log (retention.audit_anchor_interval). Each anchor given out is noted in retention.audit_anchor_log (not on a standby or in a read-only transaction).';

-- the parts of retention.metrics that SQL cannot read
CREATE FUNCTION retention.policy_metrics(
    OUT policy_id bigint, OUT tbl text, OUT action text, OUT enabled boolean, OUT counted boolean,
    OUT count_error text, OUT rows_due bigint, OUT rows_overdue bigint, OUT rows_blocked bigint,
    OUT rows_held bigint, OUT rows_hidden bigint, OUT rows_undated bigint,
    OUT oldest_overdue_seconds double precision, OUT last_success_seconds double precision,
    OUT runs_failed bigint, OUT runs_incomplete bigint, OUT rows_left bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_policy_metrics'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.policy_metrics() IS
'One row per policy for retention.metrics: its rows counted now as a run would (every table, as its owner; disabled policies and policies whose count failed are not counted: counted = false, count_error says why), seconds since the last successful run (or since the policy was declared), failed and incomplete runs since then, rows_left of the latest finished run. For roles that may read retention.metrics. Errors: 42501 the caller may not read retention.metrics.';

CREATE FUNCTION retention.scheduler_state(OUT running boolean, OUT state text)
RETURNS record
AS 'MODULE_PATHNAME', 'retention_scheduler_state'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.scheduler_state() IS
'Whether a scheduler runs the policies of this database now (running) and, when none does, why (state): not_preloaded (pg_retention is not in shared_preload_libraries), disabled (retention.enabled = off), standby (the server is in recovery), launcher_down (no launcher process), held (a session holds the database free of workers: DDL or a restore), worker_role (the role retention.worker_role names cannot log in, or cannot work in this database), restore_grace (a restore was recognized and policies wait for retention.restore_grace or retention.resume()); running otherwise, also while the database waits its turn for a worker slot. For roles that may read retention.metrics. Errors: 42501 the caller may not read retention.metrics.';

-- One branch per metric name, each with its name as a constant: a query for
-- some names plans the other branches away, and the policy counts (p, the
-- costly part) are taken only when a retention_policy_* series is asked for.
CREATE VIEW retention.metrics AS
WITH p AS MATERIALIZED (
    SELECT m.*, pg_catalog.jsonb_build_object('policy_id', m.policy_id::pg_catalog.text,
                                              'table', m.tbl, 'action', m.action) AS labels
      FROM retention.policy_metrics() m),
e AS MATERIALIZED (
    SELECT pg_catalog.count(*) AS received,
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'pending') AS pending,
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'pending'
                                         AND l.due_at OPERATOR(pg_catalog.<) pg_catalog.now()) AS overdue,
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'done'
                                         AND l.applied_here IS NULL) AS not_applied
      FROM retention.erasure_ledger l),
a AS MATERIALIZED (
    SELECT COALESCE((SELECT pg_catalog.max(t.seq) FROM retention.audit t), 0) AS entries,
           COALESCE((SELECT pg_catalog.max(k.seq) FROM retention.audit_anchor_log k), 0) AS anchored)
SELECT 'retention_policy_enabled'::text AS metric, p.labels,
       CASE WHEN p.enabled THEN 1 ELSE 0 END::double precision AS value FROM p
UNION ALL
SELECT 'retention_policy_count_error', p.labels,
       CASE WHEN p.count_error IS NULL THEN 0 ELSE 1 END FROM p WHERE p.enabled
UNION ALL
SELECT 'retention_policy_rows_due', p.labels, p.rows_due FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_rows_overdue', p.labels, p.rows_overdue FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_rows_blocked', p.labels, p.rows_blocked FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_rows_held', p.labels, p.rows_held FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_rows_hidden', p.labels, p.rows_hidden FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_rows_undated', p.labels, p.rows_undated FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_oldest_overdue_seconds', p.labels, p.oldest_overdue_seconds FROM p WHERE p.counted
UNION ALL
SELECT 'retention_policy_last_success_seconds', p.labels, p.last_success_seconds FROM p
UNION ALL
SELECT 'retention_policy_runs_failed', p.labels, p.runs_failed FROM p
UNION ALL
SELECT 'retention_policy_runs_incomplete', p.labels, p.runs_incomplete FROM p
UNION ALL
SELECT 'retention_policy_rows_left', p.labels, p.rows_left FROM p
UNION ALL
SELECT 'retention_erasures_received', '{}'::pg_catalog.jsonb, e.received FROM e
UNION ALL
SELECT 'retention_erasures_pending', '{}'::pg_catalog.jsonb, e.pending FROM e
UNION ALL
SELECT 'retention_erasures_overdue', '{}'::pg_catalog.jsonb, e.overdue FROM e
UNION ALL
SELECT 'retention_erasures_not_applied', '{}'::pg_catalog.jsonb, e.not_applied FROM e
UNION ALL
SELECT 'retention_holds_active', '{}'::pg_catalog.jsonb, pg_catalog.count(*)
  FROM retention.holds h WHERE h.active
UNION ALL
SELECT 'retention_audit_entries', '{}'::pg_catalog.jsonb, a.entries FROM a
UNION ALL
SELECT 'retention_audit_unanchored', '{}'::pg_catalog.jsonb, GREATEST(a.entries OPERATOR(pg_catalog.-) a.anchored, 0) FROM a
UNION ALL
SELECT 'retention_scheduler_running', pg_catalog.jsonb_build_object('state', s.state),
       CASE WHEN s.running THEN 1 ELSE 0 END
  FROM retention.scheduler_state() s;

COMMENT ON VIEW retention.metrics IS
'Prometheus-style series (metric, labels, value) for monitoring: per policy (labels policy_id, table, action) enabled, count_error, rows_due, rows_overdue, rows_blocked, rows_held, rows_hidden, rows_undated, oldest_overdue_seconds, last_success_seconds, runs_failed, runs_incomplete, rows_left; erasures received, pending, overdue (pending past due_at), not_applied (imported, not replayed here); holds_active; audit_entries and audit_unanchored (entries after the newest anchor given out); scheduler_running (label state: why not). Rows are counted in every table with a policy, so reading it needs SELECT on it (granted to retention_auditor and retention_officer). contrib/prometheus/queries.yaml serves it to prometheus-postgres-exporter.';

REVOKE ALL ON retention.metrics FROM PUBLIC;
GRANT SELECT ON retention.metrics TO retention_auditor, retention_officer;

CREATE FUNCTION retention.report(format text DEFAULT 'markdown')
RETURNS text
AS 'MODULE_PATHNAME', 'retention_report'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.report(text) IS
'The compliance report as one document, format markdown (default) or html (a self-contained page with an inline SVG chart): personal columns with their categories and masks, the retention policies with their periods and bases (the records of processing), the state of every policy counted now (overdue rows, last run and status, failed and incomplete runs with their cause), the scheduler, active legal holds, erasure requests against their deadline, rows deleted and anonymized per week, and the audit chain verified with its latest anchor. Data subjects are named by kind only. For superusers and members of retention_auditor and retention_officer. Errors: 22004 format NULL; 22023 unknown format; 42501 not allowed to execute it.';

REVOKE ALL ON FUNCTION retention.report(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.report(text) TO retention_auditor, retention_officer;

-- Logical replication and CDC (docs/operations.md#logical-replication-and-cdc)
------------------------------------------------------------------------

-- A partition of a published table is emptied by TRUNCATE before it is dropped, or goes
-- by rows, so that subscribers see its rows go; a policy keeping detached partitions of a
-- published table is refused.  Purge batches and erasures write logical decoding messages
-- (prefix retention; setting retention.cdc_messages, no SQL object).  The comment of
-- add_policy says so; it is set on the add_policy the run windows section below makes anew.

------------------------------------------------------------------------
-- Run windows: a daily window and a minimum interval per policy
------------------------------------------------------------------------

-- The scheduler starts a policy's runs only inside its daily window (local
-- times in the policy's time_zone; a window may cross midnight), stops a run
-- between batches at the window's end, and starts a new round of runs no
-- sooner than min_interval after the start of the last run that ended one
-- (docs/operations.md#run-windows).  NULL: no window, no minimum.  CALL
-- retention.run() ignores both.
ALTER TABLE retention.policy_catalog
    ADD COLUMN window_start time,
    ADD COLUMN window_end time,
    ADD COLUMN min_interval interval,
    ADD CONSTRAINT policy_catalog_window_check
        CHECK ((window_start IS NULL) = (window_end IS NULL)
               AND window_start <> window_end
               AND window_start < '24:00' AND window_end < '24:00'),
    ADD CONSTRAINT policy_catalog_min_interval_check CHECK (min_interval > '0');

-- a run the worker stopped between batches (its time budget, its window's
-- end, a reload) leaves its round open: the next run continues it without
-- waiting for min_interval
ALTER TABLE retention.run_history
    ADD COLUMN stopped_early boolean NOT NULL DEFAULT false;

DROP FUNCTION retention.add_policy(regclass, interval, name, text, name[], integer, text, text, text, name);

CREATE FUNCTION retention.add_policy(
    tbl regclass,
    keep interval,
    after name,
    action text DEFAULT 'delete',
    columns name[] DEFAULT NULL,
    batch_size integer DEFAULT NULL,
    basis text DEFAULT NULL,
    time_zone text DEFAULT NULL,
    partition_action text DEFAULT NULL,
    detach_schema name DEFAULT NULL,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    min_interval interval DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'retention_add_policy'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.add_policy(regclass, interval, name, text, name[], integer, text, text, text, name, time, time, interval) IS
'Declares a retention policy and returns its id: rows of tbl whose column after is older than as_of - keep (computed in time_zone, by default the session TimeZone) are deleted or anonymized. On a partitioned table, partition_action (delete policies only) says what happens to a partition wholly before the cutoff: drop (NULL, the default: detached and dropped; a partition a publication publishes with its truncates is emptied by TRUNCATE first, one published through its root or without truncates goes by rows, so that subscribers see its rows go), detach (detached and kept, moved to detach_schema if given) or rows (deleted by batches like any other rows). window_start and window_end (local times in time_zone; 22:00 to 04:00 crosses midnight; 00:00 to 24:00 is no window) confine the scheduler''s runs to a daily window, stopped between batches at its end; min_interval is the least time between the starts of two rounds of runs (NULL or 0: none); CALL retention.run() ignores both. Errors: 22023 keep not positive or below retention.min_keep, unknown action or partition_action, bad batch_size or time zone, detach_schema without partition_action detach, a window with one bound only or starting where it ends, min_interval negative or longer than 1000 years; 3F000 detach_schema missing; 42703 unknown column; 42804 after not a date/timestamp/timestamptz; 42809 not a table; 42501 not the owner, or no CREATE on detach_schema; 55000 partition_action detach on a table a publication publishes with its deletes or truncates.';

DROP FUNCTION retention.alter_policy(bigint, interval, name, text, name[], integer, text, text, boolean, text, name);

CREATE FUNCTION retention.alter_policy(
    policy_id bigint,
    keep interval DEFAULT NULL,
    after name DEFAULT NULL,
    action text DEFAULT NULL,
    columns name[] DEFAULT NULL,
    batch_size integer DEFAULT NULL,
    basis text DEFAULT NULL,
    time_zone text DEFAULT NULL,
    enabled boolean DEFAULT NULL,
    partition_action text DEFAULT NULL,
    detach_schema name DEFAULT NULL,
    window_start time DEFAULT NULL,
    window_end time DEFAULT NULL,
    min_interval interval DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_alter_policy'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.alter_policy(bigint, interval, name, text, name[], integer, text, text, boolean, text, name, time, time, interval) IS
'Changes fields of a policy; a NULL argument leaves its field as it is. columns => ''{}'' clears the column list, batch_size => 0 returns to retention.batch_size, basis => '''' clears the basis, detach_schema => '''' clears the schema that keeps detached partitions, window_start => ''00:00'', window_end => ''24:00'' removes the run window, min_interval => ''0'' removes the minimum interval. Errors: 42704 unknown policy, and those of add_policy.';

DROP VIEW retention.policies;

CREATE VIEW retention.policies AS
    SELECT policy_id, relid AS tbl, keep, anchor AS after, action, columns, batch_size,
           basis, time_zone, enabled, created_at, created_by, partition_action, detach_schema,
           window_start, window_end, min_interval
      FROM retention.policy_catalog;

COMMENT ON VIEW retention.policies IS
'Declared retention policies: table, retention period (keep), anchor column (after), action, masked columns, batch size, legal basis, time zone of the cutoff, enabled flag, who declared it when, what a delete policy does with partitions wholly before its cutoff (partition_action: drop, detach or rows; detach_schema: where detached partitions are kept), and when the scheduler may run it (window_start and window_end: a daily window in time_zone; min_interval: least time between two rounds of runs).';

GRANT SELECT ON retention.policies TO PUBLIC;

CREATE FUNCTION retention.next_window(policy_id bigint, at timestamptz DEFAULT pg_catalog.now(),
                                      OUT opens timestamptz, OUT closes timestamptz)
RETURNS record
AS 'MODULE_PATHNAME', 'retention_next_window'
LANGUAGE C STABLE;

COMMENT ON FUNCTION retention.next_window(bigint, timestamptz) IS
'The occurrence of a policy''s run window that contains at, or else the next one: when it opens and closes, as the scheduler computes them (local times in the policy''s time zone; across a daylight-saving change a window keeps at least its length). NULLs for a policy without a window. Errors: 42704 unknown policy, 22004 at NULL.';

------------------------------------------------------------------------
-- Backups and restores: the ledger file, restores recognized, the grace
-- period after a restore, and the erasure horizon
-- (docs/operations.md "Backups and restores", docs/reference.md#backups-and-restores)
------------------------------------------------------------------------

-- Which ledger this database writes to the ledger file (retention.ledger_file) and
-- which ledgers it descends from.  A ledger is named '<uuid>@<system identifier>/<database
-- OID>': the home it was written from.  Dumps and base backups carry the row, so that a
-- restored database knows the ledger it came from; the oldest row is the identity (a
-- restore's CREATE EXTENSION does not add one, the library does when it first needs it).
CREATE TABLE retention.ledger_identity (
    ledger      text NOT NULL,
    ancestors   text[] NOT NULL DEFAULT '{}',
    file_path   text,
    file_id     uuid,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);

COMMENT ON TABLE retention.ledger_identity IS
'The ledger this database writes to the ledger file (retention.ledger_file): its name (uuid@system identifier/database OID), the ledgers it descends from (whose erasures it replays), and the file it wrote to (path and file id). Kept by dumps and backups; managed by the library.';

SELECT pg_catalog.pg_extension_config_dump('retention.ledger_identity', '');

-- One row per restore recognized in this database: when, by which signals, and the
-- grace period that time-based purges wait after it.
CREATE TABLE retention.restore_log (
    restore_id       bigserial PRIMARY KEY,
    recognized_at    timestamptz NOT NULL,
    signals          text[] NOT NULL,
    details          jsonb NOT NULL,
    previous_ledger  text,
    ledger           text NOT NULL,
    replayed         bigint NOT NULL DEFAULT 0,
    grace_until      timestamptz,
    resumed_at       timestamptz,
    resumed_by       name
);

COMMENT ON TABLE retention.restore_log IS
'Storage of the restores recognized in this database; read it through retention.restores.';

SELECT pg_catalog.pg_extension_config_dump('retention.restore_log', '');
SELECT pg_catalog.pg_extension_config_dump('retention.restore_log_restore_id_seq', '');

CREATE VIEW retention.restores AS
    SELECT r.restore_id, r.recognized_at, r.signals, r.details, r.previous_ledger, r.ledger, r.replayed,
           r.grace_until, r.resumed_at, r.resumed_by,
           r.restore_id OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(n.restore_id) FROM retention.restore_log n)
             AND r.resumed_at IS NULL AND r.grace_until OPERATOR(pg_catalog.>) pg_catalog.now() AS waiting
      FROM retention.restore_log r;

COMMENT ON VIEW retention.restores IS
'Restores recognized in this database: when, the signals (moved: another system or database than the one the ledger was written from; erasures: the ledger file holds erasures this database lacks; audit: the audit trail is behind or off an anchor in the ledger file), what was found, erasures replayed, until when time-based purges wait (retention.restore_grace), and who ended the wait with retention.resume(). waiting: the scheduler runs no policy here now.';

-- retention.status says how many expired rows row-level security hides from the table
-- owner (rows_hidden, as retention.preview() does: no run can remove them) and how long
-- policies wait after a restore (restore_grace_until; NULL: they do not)
DROP VIEW retention.status;
DROP FUNCTION retention.policy_status();

CREATE FUNCTION retention.policy_status(
    OUT policy_id bigint, OUT tbl regclass, OUT action text, OUT keep interval,
    OUT enabled boolean, OUT cutoff timestamptz, OUT rows_overdue bigint,
    OUT rows_blocked bigint, OUT rows_on_hold bigint, OUT rows_undated bigint, OUT oldest_overdue timestamptz, OUT last_run timestamptz,
    OUT last_status text, OUT last_success timestamptz, OUT next_run timestamptz, OUT rows_hidden bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_policy_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.policy_status() IS
'Per policy, now: cutoff, rows overdue (past the cutoff and not needed by a foreign key), rows blocked by foreign keys, rows under a legal hold, rows undated, the oldest overdue anchor, the last run, its status, the last success, the next scheduled run, and rows_hidden: expired rows row-level security hides from the table owner, which no run can remove. Backs the view retention.status.';

CREATE VIEW retention.status AS
    SELECT s.*,
           (SELECT r.grace_until FROM retention.restores r WHERE r.waiting) AS restore_grace_until
      FROM retention.policy_status() s;

COMMENT ON VIEW retention.status IS
'Per policy: rows overdue now (blocked rows apart) and how old the oldest is, the last run and the last success, when the scheduler runs it next (NULL without the scheduler), rows_hidden (expired rows row-level security hides from the table owner: no run removes them), and restore_grace_until: while the database waits after a recognized restore, until when (retention.resume() ends the wait).';

GRANT SELECT ON retention.status TO PUBLIC;

CREATE FUNCTION retention.resume()
RETURNS boolean
AS 'MODULE_PATHNAME', 'retention_resume'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.resume() IS
'Ends the wait of time-based purges after a recognized restore (retention.restore_grace): the scheduler runs the policies from its next pass. Returns false when no wait was in force. Audited (restore_resumed). Errors: 42501 neither a superuser nor the database owner.';

CREATE FUNCTION retention.ledger_entries(
    OUT line bigint, OUT type text, OUT ledger text, OUT txn text, OUT erasure_id uuid, OUT kind text,
    OUT subject_hash text, OUT status text, OUT outcome text, OUT at timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_ledger_entries'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.ledger_entries() IS
'The lines of the ledger file (retention.ledger_file), checked: type (header, erasure, commit, abort, anchor, torn), the ledger and transaction that wrote them, for an erasure its id, kind, subject token and status, and outcome: committed, aborted or unconfirmed (its transaction''s end was not recorded: a crash). Never a subject id. Errors: 42501 neither a superuser nor a member of retention_officer or retention_auditor; 55000 retention.ledger_file is empty; 58P01 missing; F0000 not a regular file, not the server''s, open to others; XX001 a line is damaged.';

REVOKE ALL ON FUNCTION retention.ledger_entries() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.ledger_entries() TO retention_officer, retention_auditor;

-- Where each erasure and purge run carried out here left its change in the WAL, and
-- which tables hold its dead tuples until they are vacuumed.  Not dumped: positions in
-- the WAL mean nothing in another cluster.
CREATE TABLE retention.horizon_marks (
    source      text NOT NULL CHECK (source IN ('erasure', 'run')),
    source_id   text NOT NULL,
    at          timestamptz NOT NULL,
    lsn         pg_lsn NOT NULL,
    relids      oid[] NOT NULL,
    dead_tuples_gone timestamptz,   -- first seen vacuumed (by the worker's pass)
    wal_gone    timestamptz,        -- first seen removed from pg_wal
    PRIMARY KEY (source, source_id)
);

COMMENT ON TABLE retention.horizon_marks IS
'Storage of the erasure horizon: per erasure and purge run carried out in this cluster, when, the WAL position after it and the tables it changed; read it through retention.erasure_horizon.';

CREATE FUNCTION retention.horizon(
    OUT source text, OUT id text, OUT carried_out_at timestamptz, OUT lsn pg_lsn, OUT tables regclass[],
    OUT dead_tuples_gone timestamptz, OUT wal_gone timestamptz, OUT backups_gone timestamptz,
    OUT unrecoverable_after timestamptz, OUT held_by text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_horizon'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.horizon() IS
'Per erasure and purge run carried out in this cluster: when the removed data stops being recoverable from it (dead tuples vacuumed, WAL removed, backups expired per retention.backup_retention) and what holds it longest now. Backs the view retention.erasure_horizon.';

CREATE VIEW retention.erasure_horizon AS SELECT * FROM retention.horizon();

COMMENT ON VIEW retention.erasure_horizon IS
'Per erasure and purge run carried out in this cluster (source erasure or run, id): the WAL position after it, the tables it changed, when their dead tuples were vacuumed, when the WAL holding the change was removed, when the last backup or archived segment holding it expires (retention.backup_retention), unrecoverable_after (NULL while something still holds the data for an unknown time) and held_by, the component that holds it longest: dead tuples, a replication slot (named), wal_keep_size, WAL archiving, the next checkpoint, or backups.';

REVOKE ALL ON retention.ledger_identity, retention.restore_log, retention.horizon_marks FROM PUBLIC;
REVOKE ALL ON FUNCTION retention.horizon() FROM PUBLIC;
GRANT SELECT ON retention.restores TO PUBLIC;
GRANT SELECT ON retention.erasure_horizon TO retention_officer, retention_auditor;

------------------------------------------------------------------------
-- Citus: the pseudonym mask on the shards of a Citus table
------------------------------------------------------------------------

-- Citus refuses a STABLE function with column references in a multi-shard
-- UPDATE, and retention.mask_pseudonym is STABLE (its key file may change).
-- The anonymize engine sends this form to the shards of a Citus table: each
-- node computes with its own key, under a grant the coordinator makes for
-- the batch's distributed transaction, and refuses when its key is not the
-- coordinator's (docs/operations.md#citus).
CREATE FUNCTION retention.mask_pseudonym_node(value text, context text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_pseudonym_node'
LANGUAGE C STRICT IMMUTABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION retention.mask_pseudonym_node(text, text) IS
'The pseudonym mask as the shards of a Citus table compute it (the SQL the anonymize engine and erasures send to the workers names it): the result of retention.pseudonym(value, context) with this node''s key, computed only under the grant the coordinator''s engine makes for its distributed transaction, or for a caller that may execute retention.pseudonym(text, text). Errors: F0000 this node''s key is not the coordinator''s (both fingerprints named); 42501 no valid grant; otherwise as retention.pseudonym.';

------------------------------------------------------------------------
-- Data subjects with a composite key (a tenant id and an account id)
------------------------------------------------------------------------

-- On a Citus table distributed by a tenant, unique indexes must include the
-- tenant: a subject is then identified by several columns together.  Such a
-- kind records its columns and the row type add_subject creates for them
-- (retention."<kind> key"); its ids are written as that row type's text,
-- '(7,42)' (docs/reference.md#data-subjects).
ALTER TABLE retention.subject_catalog
    ADD COLUMN key_columns name[],
    ADD COLUMN key_type regtype;

CREATE OR REPLACE VIEW retention.subjects AS
    SELECT s.kind, s.relid AS tbl, s.key_column AS key, s.created_at, s.created_by,
           pg_catalog.array_agg(pg_catalog.format('%s.%I', l.relid, l.column_name) ORDER BY l.relid, l.column_name)
               FILTER (WHERE l.relid IS NOT NULL) AS links,
           COALESCE(s.key_columns, ARRAY[s.key_column]) AS key_columns
      FROM retention.subject_catalog s
      LEFT JOIN retention.subject_link_catalog l USING (kind)
     GROUP BY s.kind, s.relid, s.key_column, s.created_at, s.created_by, s.key_columns;
COMMENT ON VIEW retention.subjects IS
'Declared kinds of data subjects: their table, key column (the first of a composite key), the links declared by hand, and key_columns, every column of the key.';

CREATE FUNCTION retention.add_subject(kind text, tbl regclass, key name[])
RETURNS void
AS 'MODULE_PATHNAME', 'retention_add_subject_composite'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.add_subject(text, regclass, name[]) IS
'Declares a kind of data subject whose key is several columns together (a unique index or primary key on exactly them), such as ARRAY[''tenant_id'', ''account_id''] on a table distributed by tenant_id; ids are then written as rows, ''(7,42)'', and the key''s row type is created as retention."<kind> key". Errors: 42710 kind exists, 42P10 not a key (or, on a Citus distributed table, the distribution column left out), 42703 no such column, 42701 a column twice, 22023 fewer than two columns or kind too long, 42809 not a table, 42501 not the owner.';

------------------------------------------------------------------------
-- What the engine keeps across calls learns when pg_retention's catalogs change
------------------------------------------------------------------------

-- An erasure keeps the graph of a kind of data subject, the SQL it builds from
-- the catalogs and the plans of its statements across calls
-- (docs/operations.md#erasures).  PostgreSQL tells every backend when a
-- table's definition changes; these statement triggers tell it when a policy,
-- a kind of data subject or one of its links, or a legal hold changes.
CREATE FUNCTION retention.catalog_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'retention_catalog_changed'
LANGUAGE C;

COMMENT ON FUNCTION retention.catalog_changed() IS
'Statement trigger function on retention.policy_catalog, subject_catalog, subject_link_catalog and hold_catalog: once the change commits, every session builds what it keeps from these catalogs (the graph of a kind of data subject, the statements of an erasure, whether any hold is active) again. Errors: 39P01 called other than as a trigger.';

REVOKE ALL ON FUNCTION retention.catalog_changed() FROM PUBLIC;

CREATE TRIGGER policy_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON retention.policy_catalog
    FOR EACH STATEMENT EXECUTE FUNCTION retention.catalog_changed();
CREATE TRIGGER subject_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON retention.subject_catalog
    FOR EACH STATEMENT EXECUTE FUNCTION retention.catalog_changed();
CREATE TRIGGER subject_link_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON retention.subject_link_catalog
    FOR EACH STATEMENT EXECUTE FUNCTION retention.catalog_changed();
CREATE TRIGGER hold_catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON retention.hold_catalog
    FOR EACH STATEMENT EXECUTE FUNCTION retention.catalog_changed();
-- a restore in session_replication_role = replica changes them too
ALTER TABLE retention.policy_catalog ENABLE ALWAYS TRIGGER policy_catalog_changed;
ALTER TABLE retention.subject_catalog ENABLE ALWAYS TRIGGER subject_catalog_changed;
ALTER TABLE retention.subject_link_catalog ENABLE ALWAYS TRIGGER subject_link_catalog_changed;
ALTER TABLE retention.hold_catalog ENABLE ALWAYS TRIGGER hold_catalog_changed;

------------------------------------------------------------------------
-- A policy's own throttle: fixed batches and pauses, or adaptive
------------------------------------------------------------------------

-- retention.throttle sets it for every policy (a session, a role, the server);
-- retention.set_throttle() for one (docs/operations.md#protecting-the-workload).
-- no foreign key to the policy catalog: pg_restore -j loads the extension's
-- configuration tables in any order (60_sec_review); a trigger drops a policy's
-- throttle with the policy instead
CREATE TABLE retention.policy_throttle (
    policy_id bigint PRIMARY KEY,
    throttle  text NOT NULL CHECK (throttle IN ('fixed', 'adaptive'))
);

COMMENT ON TABLE retention.policy_throttle IS
'Storage of the throttles policies have of their own; read them through retention.policy_throttles and change them with set_throttle.';

SELECT pg_catalog.pg_extension_config_dump('retention.policy_throttle', '');
REVOKE ALL ON retention.policy_throttle FROM PUBLIC;

CREATE VIEW retention.policy_throttles AS
    SELECT t.policy_id, p.relid AS tbl, t.throttle
      FROM retention.policy_throttle t JOIN retention.policy_catalog p USING (policy_id);

COMMENT ON VIEW retention.policy_throttles IS
'The policies whose runs do not follow retention.throttle, and their own throttle: fixed (batches of the batch size, retention.batch_pause between them) or adaptive.';

GRANT SELECT ON retention.policy_throttles TO PUBLIC;

CREATE FUNCTION retention.policy_throttle_dropped()
RETURNS trigger
AS 'MODULE_PATHNAME', 'retention_policy_throttle_dropped'
LANGUAGE C;

COMMENT ON FUNCTION retention.policy_throttle_dropped() IS
'Row trigger function on retention.policy_catalog: a policy that goes takes its own throttle (retention.policy_throttle) along. Errors: 39P01 called other than as a trigger.';

REVOKE ALL ON FUNCTION retention.policy_throttle_dropped() FROM PUBLIC;

CREATE TRIGGER policy_throttle_dropped AFTER DELETE ON retention.policy_catalog
    FOR EACH ROW EXECUTE FUNCTION retention.policy_throttle_dropped();
ALTER TABLE retention.policy_catalog ENABLE ALWAYS TRIGGER policy_throttle_dropped;

CREATE FUNCTION retention.set_throttle(policy_id bigint, throttle text)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_set_throttle'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.set_throttle(bigint, text) IS
'Sets how fast the runs of one policy go, whatever retention.throttle says: fixed (batches of the policy''s batch size, retention.batch_pause between them) or adaptive (batches and pauses follow the batch time, lock waits, WAL rate and standby replay lag against retention.max_batch_time, max_wal_rate and max_replica_lag, never slower than retention.min_purge_rate rows a second); NULL returns the policy to the setting. Audited. Errors: 22004 policy_id NULL, 22023 unknown throttle, 42704 unknown policy, 42501 not the owner of the policy''s table.';
