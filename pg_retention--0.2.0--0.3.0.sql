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
