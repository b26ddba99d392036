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
