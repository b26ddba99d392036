/* pg_retention--0.1.0--0.2.0.sql: from 0.1.0 to 0.2.0 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION pg_retention UPDATE TO '0.2.0'" to load this file. \quit

-- CREATE EXTENSION runs pg_retention--0.1.0.sql and then this script, in one
-- transaction; ALTER EXTENSION ... UPDATE runs this script alone.  Every SQL
-- change after 0.1.0 goes here, never into the 0.1.0 script, so that a
-- database created with 0.1.0 reaches the same objects as a new one.

------------------------------------------------------------------------
-- The schema retention must be changeable by superusers only
------------------------------------------------------------------------

-- A role that owns schema retention, or may create objects in it, could put
-- a function there that the extension's own SQL resolves (say a
-- retention.mask_partial taking exactly the arguments a run passes), and it
-- would run as whoever runs the policy: a superuser or a table owner.  A
-- schema of that name created beforehand by such a role is refused here,
-- which rolls the whole CREATE EXTENSION (or UPDATE) back.
DO $guard$
DECLARE
    roles text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(r.rolname), ', ' ORDER BY r.rolname)
      INTO roles
      FROM pg_catalog.pg_namespace n, pg_catalog.pg_roles r
     WHERE n.nspname OPERATOR(pg_catalog.=) 'retention'
       AND NOT r.rolsuper
       AND (r.oid OPERATOR(pg_catalog.=) n.nspowner
            OR pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE'));
    IF roles IS NOT NULL THEN
        RAISE EXCEPTION 'schema retention can be changed by roles that are not superusers: %', roles
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A function or operator such a role creates in the schema could run with the rights of whoever runs a policy.',
                  HINT = 'Drop the schema (or make a superuser its owner and revoke CREATE on it) and create the extension again.';
    END IF;
END
$guard$;

------------------------------------------------------------------------
-- The version of the library
------------------------------------------------------------------------

CREATE FUNCTION retention.library_version()
RETURNS text
AS 'MODULE_PATHNAME', 'retention_library_version'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.library_version() IS
'The version of the SQL objects the loaded pg_retention library was built for (such as ''0.2.0''). When it differs from pg_extension.extversion, the library warns once per session and ALTER EXTENSION pg_retention UPDATE brings the SQL objects up to date.';

------------------------------------------------------------------------
-- The tables pg_dump keeps do not reference each other
------------------------------------------------------------------------

-- pg_restore -j loads the data of an extension's tables in any order, each in a
-- session of its own: with this foreign key, the links of retention.link_subject
-- failed to load about every other time (the kind they name not yet there), and
-- with them went the legal-hold cover of the linked tables.  drop_subject removes
-- a kind's links itself, and link_subject locks the kind while it adds one.
ALTER TABLE retention.subject_link_catalog DROP CONSTRAINT IF EXISTS subject_link_catalog_kind_fkey;

------------------------------------------------------------------------
-- Runs count the rows that refused to be deleted or masked
------------------------------------------------------------------------

-- A row a constraint or trigger refuses is isolated, left in place and
-- counted; the run is then recorded as failed with the first refusal.
ALTER TABLE retention.run_history ADD COLUMN refused bigint NOT NULL DEFAULT 0;
-- (retention.runs shows it: the view is made again below, with the columns of partitions)

------------------------------------------------------------------------
-- Audit anchors: a chain head kept outside the database
------------------------------------------------------------------------

COMMENT ON FUNCTION retention.verify_audit() IS
'Recomputes the hash chain of retention.audit: ok, the number of entries checked, and the seq of the first entry that was changed, inserted out of order or follows a removed one (NULL when ok). Edits whose author recomputed the chain afterwards (a superuser can) are found only against an anchor: see verify_audit(anchor_seq, anchor_hash).';

CREATE FUNCTION retention.verify_audit(anchor_seq bigint, anchor_hash bytea,
                                       OUT ok boolean, OUT entries bigint, OUT first_bad bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_verify_audit'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.verify_audit(bigint, bytea) IS
'As retention.verify_audit(), and the chain must still pass through an anchor taken earlier (a pair from retention.audit_anchor() or from an "audit anchor" line of the server log): entry anchor_seq must exist and hash to anchor_hash. A rewrite of any entry up to the anchor, even with the chain recomputed, gives ok = false and first_bad = anchor_seq (or the first entry found bad before it, or the first one missing). Both NULL: no anchor. Errors: 22004 only one of the two NULL; 22023 anchor_seq < 1 or a hash that is not 32 bytes.';

CREATE FUNCTION retention.audit_anchor(OUT seq bigint, OUT hash bytea)
RETURNS record
AS 'MODULE_PATHNAME', 'retention_audit_anchor'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.audit_anchor() IS
'The newest entry of retention.audit: its seq and its 32-byte BLAKE2b hash (0 and NULL for an empty trail). Keep the pair outside the database (a ticket, a report, another system); retention.verify_audit(seq, hash) later fails if the trail up to that entry was rewritten, even by a superuser who recomputed the chain. The database worker also writes it to the server log (retention.audit_anchor_interval).';

------------------------------------------------------------------------
-- Tags are checked on partitions and children created later
------------------------------------------------------------------------

COMMENT ON FUNCTION retention.on_ddl_end() IS
'Event trigger on ALTER TABLE, ALTER TYPE (typed tables), CREATE INDEX and CREATE TABLE: follows RENAME COLUMN in policies, refuses a type change that would leave an anchor column without a date or timestamp type (SQLSTATE 2BP01), and checks tags again so that a type change, SET NOT NULL or a unique index cannot leave a mask that no longer fits its column (the check''s own SQLSTATE, 23505 for a unique index). A partition or inheritance child (also one created with PARTITION OF or INHERITS) is checked against the tags it inherits from its parents as well as its own.';

DROP EVENT TRIGGER retention_ddl_end;

CREATE EVENT TRIGGER retention_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'CREATE INDEX', 'CREATE TABLE')
    EXECUTE FUNCTION retention.on_ddl_end();

------------------------------------------------------------------------
-- Computing pseudonyms is not for everyone
------------------------------------------------------------------------

COMMENT ON FUNCTION retention.pseudonym(text, text) IS
'Keyed pseudonym of value: ''ps:'' and 24 lowercase hex digits (27 characters), BLAKE2b (libsodium) of the value''s bytes keyed with the subkey of context (default ''''). Same key and context give the same pseudonym; not reversible without the key. A value that already has this form is returned unchanged (idempotent). NULL gives NULL. Not executable by PUBLIC (whoever can compute pseudonyms can test guesses against stored ones): superusers, members of retention_officer and roles granted EXECUTE. Errors: 42501 no EXECUTE privilege; 55000 retention.key_file empty; 58P01 / 42501 key file missing or unreadable; F0000 key file malformed, not a regular file, or readable by group or others.';

CREATE FUNCTION retention.mask_pseudonym(value text, context text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_pseudonym'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;

COMMENT ON FUNCTION retention.mask_pseudonym(text, text) IS
'The pseudonym mask as the anonymize engine applies it (the SQL of anonymize runs and erasures names it): the same result as retention.pseudonym(value, context), computed only while the engine acts as the table''s owner, or for a caller that may execute retention.pseudonym(text, text). Errors: 42501 called outside the engine by a role that may not execute retention.pseudonym; otherwise as retention.pseudonym.';

-- computing pseudonyms lets one test guesses against stored ones (SPEC section 4);
-- the engine masks through retention.mask_pseudonym, which needs no grant
REVOKE ALL ON FUNCTION retention.pseudonym(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION retention.pseudonym(text, text) TO retention_officer;

------------------------------------------------------------------------
-- Partitions wholly before the cutoff are removed whole
------------------------------------------------------------------------

ALTER TABLE retention.policy_catalog
    ADD COLUMN partition_action text NOT NULL DEFAULT 'drop'
        CHECK (partition_action IN ('drop', 'detach', 'rows')),
    ADD COLUMN detach_schema name;

DROP FUNCTION retention.add_policy(regclass, interval, name, text, name[], integer, text, text);

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
    detach_schema name DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'retention_add_policy'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.add_policy(regclass, interval, name, text, name[], integer, text, text, text, name) IS
'Declares a retention policy and returns its id: rows of tbl whose column after is older than as_of - keep (computed in time_zone, by default the session TimeZone) are deleted or anonymized. On a partitioned table, partition_action (delete policies only) says what happens to a partition wholly before the cutoff: drop (NULL, the default: detached and dropped), detach (detached and kept, moved to detach_schema if given) or rows (deleted by batches like any other rows). Errors: 22023 keep not positive or below retention.min_keep, unknown action or partition_action, bad batch_size or time zone, detach_schema without partition_action detach; 3F000 detach_schema missing; 42703 unknown column; 42804 after not a date/timestamp/timestamptz; 42809 not a table; 42501 not the owner, or no CREATE on detach_schema.';

DROP FUNCTION retention.alter_policy(bigint, interval, name, text, name[], integer, text, text, boolean);

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
    detach_schema name DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_alter_policy'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.alter_policy(bigint, interval, name, text, name[], integer, text, text, boolean, text, name) IS
'Changes fields of a policy; a NULL argument leaves its field as it is. columns => ''{}'' clears the column list, batch_size => 0 returns to retention.batch_size, basis => '''' clears the basis, detach_schema => '''' clears the schema that keeps detached partitions. Errors: 42704 unknown policy, and those of add_policy.';

DROP VIEW retention.policies;

CREATE VIEW retention.policies AS
    SELECT policy_id, relid AS tbl, keep, anchor AS after, action, columns, batch_size,
           basis, time_zone, enabled, created_at, created_by, partition_action, detach_schema
      FROM retention.policy_catalog;

COMMENT ON VIEW retention.policies IS
'Declared retention policies: table, retention period (keep), anchor column (after), action, masked columns, batch size, legal basis, time zone of the cutoff, enabled flag, who declared it when, and what a delete policy does with partitions wholly before its cutoff (partition_action: drop, detach or rows; detach_schema: where detached partitions are kept).';

GRANT SELECT ON retention.policies TO PUBLIC;

-- partitions removed whole by a run, and why a partition past the cutoff went by rows
ALTER TABLE retention.run_history
    ADD COLUMN partitions bigint NOT NULL DEFAULT 0,
    ADD COLUMN notes text;

DROP VIEW retention.runs;

-- a run's error can quote its table's data: each role sees the runs of tables it may read
CREATE VIEW retention.runs AS
    SELECT run_id, policy_id, tbl, action, as_of, cutoff, started_at, finished_at,
           rows, batches, blocked, skipped_locked, undated, held, refused, status, error, run_by, trigger,
           partitions, notes
      FROM retention.run_history h
     WHERE COALESCE(pg_catalog.has_table_privilege(h.relid, 'SELECT'), false)
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) 'retention_auditor'
                      AND pg_catalog.pg_has_role(r.oid, 'MEMBER'))
        OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CURRENT_USER);

COMMENT ON VIEW retention.runs IS
'One row per policy run: cutoff, start and end, rows deleted or anonymized, batches, rows blocked by foreign keys, rows skipped because other sessions locked them, rows with a NULL anchor, rows a legal hold kept, rows refused (a constraint or trigger would not let them be deleted or masked; the run is then failed), status (running, success, failed, interrupted) and the error of a failed run; partitions removed whole (dropped or detached; their rows are counted in rows) and notes on partitions wholly past the cutoff that went by rows instead, and why.';

GRANT SELECT ON retention.runs TO PUBLIC;

-- an ended hold forgets its subject's id once no pending erasure needs it to find the subject
ALTER TABLE retention.hold_catalog DROP CONSTRAINT hold_catalog_check;
ALTER TABLE retention.hold_catalog ADD CONSTRAINT hold_catalog_covers_one CHECK (
    (kind IS NOT NULL AND relid IS NULL
     AND (subject_id IS NOT NULL OR released_at IS NOT NULL OR until IS NOT NULL))
 OR (kind IS NULL AND subject_id IS NULL AND relid IS NOT NULL));

-- the hold on the subject itself through which a pending erasure finds its subject again
ALTER TABLE retention.erasure_ledger ADD COLUMN subject_hold bigint;

COMMENT ON VIEW retention.holds IS
'Legal holds: on a data subject (kind, id) or a table, why, until when, who placed and released them, and whether they are active now. A subject hold that has ended shows no id once no pending erasure waits on it: the id is personal data.';

COMMENT ON FUNCTION retention.erase_subject(text, text) IS
'Erases one data subject from every table of its graph in one transaction, children first: rows are deleted, or anonymized where a table''s anonymize policy says they must be kept, and where other rows still reference them (a deletion never cascades into kept, held or other subjects'' rows; a shared row such as an address goes only when nothing references it). Returns what was done per table; an unknown id gives zero rows. A subject under a legal hold, or sharing a row with a held subject of any kind, or in a held table, is not touched: the erasure is recorded as pending and carried out when the holds end. Recorded in the erasure ledger by a keyed hash. For superusers and members of retention_officer. Errors: 42501, 42704 unknown kind, 22P02 invalid id, 55000 the erasure would be pending but neither a key nor a hold on the subject itself could find the subject again.';

COMMENT ON FUNCTION retention.replay_erasures() IS
'Applies the ledger entries not applied in this database yet (after a restore and import_erasures) and the pending ones whose holds ended: finds each subject again by hashing the keys of its table, and erases it. result: erased, held, absent, wrong_key (recorded with another key: WARNING, the entry stays waiting), pending_elsewhere (imported while still pending where it was made), unknown_kind (no such kind here: WARNING, the entry stays waiting). rows is NULL for subjects erased together in one pass (no hold active; one audit entry erasures_replayed). Errors: 42501, 55000 no key (the key the erasures were recorded with is needed).';

COMMENT ON FUNCTION retention.hold_table(regclass, text, timestamptz) IS
'Places a legal hold on a whole table (and its partitions); returns the hold id. Erasures of subjects whose graph the table references from outside wait for it too. Waits for purge batches and erasures under way. Errors: 42501, 42P01 no such relation, 42809 not a table (or a system catalog or one of pg_retention''s own tables), 22023 empty reason or until in the past.';

COMMENT ON FUNCTION retention.import_erasures(jsonb) IS
'Adds the ledger entries of export_erasures() that this ledger lacks (by erasure_id), to be applied by replay_erasures(), and completes entries imported as pending that the export says are done; returns how many were added or completed. Errors: 42501, 22023 not a JSON array.';

COMMENT ON FUNCTION retention.add_subject(text, regclass, name) IS
'Declares a kind of data subject: rows of tbl, one per subject, identified by the unique column key. Tables that reference tbl through foreign keys are found from the catalog; a row reached by several paths belongs to whoever its nearest set link names. Errors: 42710 kind exists, 42P10 key not unique, 42703 no such column, 42809 not a table, 0A000 the table has inheritance children, 42501 not the owner, 22023 invalid kind name.';
