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
'Declares a retention policy and returns its id: rows of tbl whose column after is older than as_of - keep (computed in time_zone, by default the session TimeZone) are deleted or anonymized. On a partitioned table, partition_action (delete policies only) says what happens to a partition wholly before the cutoff: drop (NULL, the default: detached and dropped), detach (detached and kept, moved to detach_schema if given) or rows (deleted by batches like any other rows). window_start and window_end (local times in time_zone; 22:00 to 04:00 crosses midnight; 00:00 to 24:00 is no window) confine the scheduler''s runs to a daily window, stopped between batches at its end; min_interval is the least time between the starts of two rounds of runs (NULL or 0: none); CALL retention.run() ignores both. Errors: 22023 keep not positive or below retention.min_keep, unknown action or partition_action, bad batch_size or time zone, detach_schema without partition_action detach, a window with one bound only or starting where it ends, min_interval negative or longer than 1000 years; 3F000 detach_schema missing; 42703 unknown column; 42804 after not a date/timestamp/timestamptz; 42809 not a table; 42501 not the owner, or no CREATE on detach_schema.';

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
