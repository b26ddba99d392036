/* pg_retention--0.1.0.sql: data retention enforced inside PostgreSQL */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION pg_retention" to load this file. \quit

-- Everything lives in schema retention (created by CREATE EXTENSION).
-- The engine is C; this script declares its entry points, its tables and
-- views, and who may use them.  Functions run with the caller's rights
-- (none is SECURITY DEFINER): the C code itself switches to the extension
-- owner for the extension's tables and to a table's owner for its batches.

------------------------------------------------------------------------
-- Classification: categories and tags
------------------------------------------------------------------------

CREATE FUNCTION retention.category_list(
    OUT category text, OUT default_mask text, OUT sensitive boolean, OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_category_list'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.category_list() IS
'The fixed vocabulary of personal-data categories: name, default mask, sensitive flag, description. Backs the view retention.categories.';

CREATE VIEW retention.categories AS
    SELECT category, default_mask, sensitive, description FROM retention.category_list();

COMMENT ON VIEW retention.categories IS
'Personal-data categories a column can be tagged with, the mask an anonymize policy applies by default, and whether the category is sensitive (GDPR art. 9, PIPL art. 28).';

CREATE FUNCTION retention.tag(tbl regclass, col name, category text, mask text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_tag'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.tag(regclass, name, text, text) IS
'Tags column col of table tbl as personal data of a category, with an optional mask (NULL: the category default). Stored as the security label of provider retention. Only the table owner may tag. Errors: 42703 unknown column, 22023 unknown category or malformed mask, 42804 mask unfit for the column type, 23502/23505 mask that would break NOT NULL or a unique index, 42809 not a table, 42501 not the owner.';

CREATE FUNCTION retention.untag(tbl regclass, col name)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_untag'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.untag(regclass, name) IS
'Removes the tag of column col of table tbl. Errors: 42704 column not tagged, 42703 unknown column, 42501 not the owner.';

CREATE VIEW retention.personal_columns AS
    SELECT n.nspname AS schema_name,
           c.relname AS table_name,
           a.attname AS column_name,
           pg_catalog.format_type(a.atttypid, a.atttypmod) AS data_type,
           cat.category,
           cat.sensitive,
           CASE WHEN pg_catalog.strpos(s.label, ':') OPERATOR(pg_catalog.>) 0
                THEN pg_catalog.substr(s.label, pg_catalog.strpos(s.label, ':') OPERATOR(pg_catalog.+) 1)
                ELSE cat.default_mask END AS mask
      FROM pg_catalog.pg_seclabel s
      JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.objoid
      JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) c.oid
                                     AND a.attnum OPERATOR(pg_catalog.=) s.objsubid
      JOIN retention.categories cat
        ON cat.category OPERATOR(pg_catalog.=) pg_catalog.split_part(s.label, ':', 1)
     WHERE s.provider OPERATOR(pg_catalog.=) 'retention'
       AND s.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
       AND s.objsubid OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped;

COMMENT ON VIEW retention.personal_columns IS
'Every tagged column: schema, table, column, data type, category, sensitive flag and the mask an anonymize policy applies (the tag''s own or the category default).';

------------------------------------------------------------------------
-- Policies
------------------------------------------------------------------------

CREATE TABLE retention.policy_catalog (
    policy_id   bigserial PRIMARY KEY,
    relid       regclass NOT NULL,
    keep        interval NOT NULL,
    anchor      name NOT NULL,
    action      text NOT NULL CHECK (action IN ('delete', 'anonymize')),
    columns     name[],
    batch_size  integer CHECK (batch_size > 0),
    basis       text,
    time_zone   text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL,
    partition_action text NOT NULL DEFAULT 'drop' CHECK (partition_action IN ('drop', 'detach', 'rows')),
    detach_schema name
);

CREATE INDEX policy_catalog_relid ON retention.policy_catalog (relid);

COMMENT ON TABLE retention.policy_catalog IS
'Storage of retention policies; read it through retention.policies and change it with add_policy, alter_policy and drop_policy.';

-- policies are user configuration: pg_dump keeps them (relid is dumped by name)
SELECT pg_catalog.pg_extension_config_dump('retention.policy_catalog', '');
SELECT pg_catalog.pg_extension_config_dump('retention.policy_catalog_policy_id_seq', '');

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

CREATE FUNCTION retention.drop_policy(policy_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_drop_policy'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.drop_policy(bigint) IS
'Removes a policy. Nothing else is dropped: indexes and data stay. Errors: 42704 unknown policy, 42501 not the table owner.';

CREATE VIEW retention.policies AS
    SELECT policy_id, relid AS tbl, keep, anchor AS after, action, columns, batch_size,
           basis, time_zone, enabled, created_at, created_by, partition_action, detach_schema
      FROM retention.policy_catalog;

COMMENT ON VIEW retention.policies IS
'Declared retention policies: table, retention period (keep), anchor column (after), action, masked columns, batch size, legal basis, time zone of the cutoff, enabled flag, who declared it when, and what a delete policy does with partitions wholly before its cutoff (partition_action: drop, detach or rows; detach_schema: where detached partitions are kept).';

------------------------------------------------------------------------
-- Runs
------------------------------------------------------------------------

CREATE TABLE retention.run_history (
    run_id          bigserial PRIMARY KEY,
    policy_id       bigint NOT NULL,
    relid           oid,
    tbl             text NOT NULL,
    action          text NOT NULL,
    as_of           timestamptz NOT NULL,
    cutoff          timestamptz,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    last_progress_at timestamptz,
    rows            bigint NOT NULL DEFAULT 0,
    batches         bigint NOT NULL DEFAULT 0,
    blocked         bigint NOT NULL DEFAULT 0,
    skipped_locked  bigint NOT NULL DEFAULT 0,
    undated         bigint NOT NULL DEFAULT 0,
    held            bigint NOT NULL DEFAULT 0,
    status          text NOT NULL CHECK (status IN ('running', 'success', 'failed', 'interrupted')),
    error           text,
    run_by          name NOT NULL,
    trigger         text NOT NULL,
    backend_pid     integer,
    partitions      bigint NOT NULL DEFAULT 0,
    notes           text
);

CREATE INDEX run_history_policy ON retention.run_history (policy_id, run_id);

COMMENT ON TABLE retention.run_history IS
'Storage of run records; read them through retention.runs.';

SELECT pg_catalog.pg_extension_config_dump('retention.run_history', '');
SELECT pg_catalog.pg_extension_config_dump('retention.run_history_run_id_seq', '');

-- a run's error can quote its table's data: each role sees the runs of tables it may read
CREATE VIEW retention.runs AS
    SELECT run_id, policy_id, tbl, action, as_of, cutoff, started_at, finished_at,
           rows, batches, blocked, skipped_locked, undated, held, status, error, run_by, trigger,
           partitions, notes
      FROM retention.run_history h
     WHERE COALESCE(pg_catalog.has_table_privilege(h.relid, 'SELECT'), false)
        OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                    WHERE r.rolname OPERATOR(pg_catalog.=) 'retention_auditor'
                      AND pg_catalog.pg_has_role(r.oid, 'MEMBER'))
        OR (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) CURRENT_USER);

COMMENT ON VIEW retention.runs IS
'One row per policy run: cutoff, start and end, rows deleted or anonymized, batches, rows blocked by foreign keys, rows skipped because other sessions locked them, rows with a NULL anchor, status (running, success, failed, interrupted) and the error of a failed run; partitions removed whole (dropped or detached; their rows are counted in rows) and notes on partitions wholly past the cutoff that went by rows instead, and why.';

CREATE PROCEDURE retention.run(tbl regclass DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
AS 'MODULE_PATHNAME', 'retention_run'
LANGUAGE C;

COMMENT ON PROCEDURE retention.run(regclass, timestamptz) IS
'Applies the enabled policies of tbl (NULL: of every table the caller owns) as of as_of, in batches of retention.batch_size rows, one transaction per batch (outside a transaction block), and reports counts as NOTICEs. Errors: 42501 not the owner of tbl, 42704 tbl has no enabled policy, 22004 as_of NULL; a failed policy is recorded in retention.runs and re-raised at the end with its own SQLSTATE.';

CREATE FUNCTION retention.preview(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (policy_id bigint, tbl regclass, action text, cutoff timestamptz,
               rows_due bigint, rows_on_hold bigint, rows_undated bigint, rows_blocked bigint)
AS 'MODULE_PATHNAME', 'retention_preview'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.preview(timestamptz) IS
'What each enabled policy would do as of as_of, changing nothing: cutoff, rows past it (rows_due), rows held by a legal hold, rows with a NULL anchor (never expire), and rows_blocked, the part of rows_due that foreign keys still need. Lists policies on tables the caller may SELECT from. Errors: 22004 as_of NULL.';

CREATE FUNCTION retention.policy_status(
    OUT policy_id bigint, OUT tbl regclass, OUT action text, OUT keep interval,
    OUT enabled boolean, OUT cutoff timestamptz, OUT rows_overdue bigint,
    OUT rows_blocked bigint, OUT rows_on_hold bigint, OUT rows_undated bigint, OUT oldest_overdue timestamptz, OUT last_run timestamptz,
    OUT last_status text, OUT last_success timestamptz, OUT next_run timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_policy_status'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.policy_status() IS
'Per policy, now: cutoff, rows overdue (past the cutoff and not needed by a foreign key), rows blocked by foreign keys, rows under a legal hold, rows undated, the oldest overdue anchor, the last run, its status, the last success, and the next scheduled run. Backs the view retention.status.';

CREATE VIEW retention.status AS SELECT * FROM retention.policy_status();

COMMENT ON VIEW retention.status IS
'Per policy: rows overdue now (blocked rows apart) and how old the oldest is, the last run and the last success, and when the scheduler runs it next (NULL without the scheduler).';

------------------------------------------------------------------------
-- Audit
------------------------------------------------------------------------

CREATE TABLE retention.audit (
    seq        bigint PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      name NOT NULL,
    event      text NOT NULL,
    tbl        text,
    rows       bigint,
    details    jsonb,
    prev_hash  bytea,
    hash       bytea NOT NULL
);

COMMENT ON TABLE retention.audit IS
'Append-only audit trail of policy changes, tags, runs, erasures and holds; each entry carries a BLAKE2b hash chained over the previous one. Check it with retention.verify_audit().';

SELECT pg_catalog.pg_extension_config_dump('retention.audit', '');

-- one row: appenders lock it, which keeps the chain linear
CREATE TABLE retention.audit_head (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL
);
INSERT INTO retention.audit_head VALUES (1, 0);

COMMENT ON TABLE retention.audit_head IS
'Serializes appends to retention.audit and remembers the last seq written, so that entries removed from the end are noticed.';

CREATE FUNCTION retention.audit_guard()
RETURNS trigger
AS 'MODULE_PATHNAME', 'retention_audit_guard'
LANGUAGE C;

COMMENT ON FUNCTION retention.audit_guard() IS
'Trigger function that refuses UPDATE, DELETE and TRUNCATE on retention.audit (SQLSTATE 42501).';

CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON retention.audit
    FOR EACH ROW EXECUTE FUNCTION retention.audit_guard();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON retention.audit
    FOR EACH STATEMENT EXECUTE FUNCTION retention.audit_guard();

CREATE FUNCTION retention.verify_audit(OUT ok boolean, OUT entries bigint, OUT first_bad bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_verify_audit'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.verify_audit() IS
'Recomputes the hash chain of retention.audit: ok, the number of entries checked, and the seq of the first entry that was changed, inserted out of order or follows a removed one (NULL when ok).';

------------------------------------------------------------------------
-- Data subjects, legal holds, erasure
------------------------------------------------------------------------

-- roles for people who handle requests and people who check (created once per cluster)
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'retention_officer') THEN
        CREATE ROLE retention_officer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'retention_auditor') THEN
        CREATE ROLE retention_auditor NOLOGIN;
    END IF;
END
$roles$;

CREATE TABLE retention.subject_catalog (
    kind        text PRIMARY KEY,
    relid       regclass NOT NULL,
    key_column  name NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by  name NOT NULL
);
COMMENT ON TABLE retention.subject_catalog IS
'Storage of the kinds of data subjects; read it through retention.subjects.';
SELECT pg_catalog.pg_extension_config_dump('retention.subject_catalog', '');

CREATE TABLE retention.subject_link_catalog (
    kind        text NOT NULL REFERENCES retention.subject_catalog ON DELETE CASCADE,
    relid       regclass NOT NULL,
    column_name name NOT NULL,
    PRIMARY KEY (kind, relid, column_name)
);
COMMENT ON TABLE retention.subject_link_catalog IS
'Storage of the links declared with retention.link_subject (a column that holds a subject key without a foreign key).';
SELECT pg_catalog.pg_extension_config_dump('retention.subject_link_catalog', '');

CREATE FUNCTION retention.add_subject(kind text, tbl regclass, key name)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_add_subject'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.add_subject(text, regclass, name) IS
'Declares a kind of data subject: rows of tbl, one per subject, identified by the unique column key. Tables that reference tbl through foreign keys are found from the catalog. Errors: 42710 kind exists, 42P10 key not unique, 42703 no such column, 42809 not a table, 42501 not the owner, 22023 invalid kind name.';

CREATE FUNCTION retention.link_subject(kind text, tbl regclass, col name)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_link_subject'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.link_subject(text, regclass, name) IS
'Says that column col of tbl holds the key of a subject of kind, where no foreign key says so. Errors: 42704 unknown kind, 42703 no such column, 42804 type cannot hold the key, 42501 not the owner of tbl.';

CREATE FUNCTION retention.drop_subject(kind text)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_drop_subject'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.drop_subject(text) IS
'Forgets a kind of data subject and its links (no data is touched). Errors: 42704 unknown kind, 42501 not the owner of its table.';

CREATE VIEW retention.subjects AS
    SELECT s.kind, s.relid AS tbl, s.key_column AS key, s.created_at, s.created_by,
           pg_catalog.array_agg(pg_catalog.format('%s.%I', l.relid, l.column_name) ORDER BY l.relid, l.column_name)
               FILTER (WHERE l.relid IS NOT NULL) AS links
      FROM retention.subject_catalog s
      LEFT JOIN retention.subject_link_catalog l USING (kind)
     GROUP BY s.kind, s.relid, s.key_column, s.created_at, s.created_by;
COMMENT ON VIEW retention.subjects IS
'Declared kinds of data subjects: their table, key column, and the links declared by hand.';

CREATE FUNCTION retention.subject_graph(
    OUT kind text, OUT tbl regclass, OUT relation text, OUT depth integer, OUT via text,
    OUT link_columns text[], OUT erase_order integer)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_subject_graph'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.subject_graph() IS
'The resolved graph of every kind of data subject (backs the view retention.subject_graph).';

CREATE VIEW retention.subject_graph AS SELECT * FROM retention.subject_graph();
COMMENT ON VIEW retention.subject_graph IS
'Per kind of data subject, the tables its rows are found in: the subject''s table, tables that reference it (directly or in a chain, with the foreign-key path), and referenced tables with personal columns (its address); erase_order is the order erasure follows.';

CREATE FUNCTION retention.subject_data(kind text, id text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'retention_subject_data'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.subject_data(text, text) IS
'Everything the database holds about one data subject, as one jsonb document grouped by table, with each table''s personal columns and their categories: the answer to an access or portability request. For superusers and members of retention_officer. Errors: 42501 not allowed, 42704 unknown kind, 22P02 id not a valid key.';

CREATE TABLE retention.hold_catalog (
    hold_id      bigserial PRIMARY KEY,
    kind         text,
    subject_id   text,
    relid        regclass,
    reason       text NOT NULL,
    until        timestamptz,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by   name NOT NULL,
    released_at  timestamptz,
    released_by  name,
    CHECK ((kind IS NOT NULL AND subject_id IS NOT NULL AND relid IS NULL)
        OR (kind IS NULL AND subject_id IS NULL AND relid IS NOT NULL))
);
COMMENT ON TABLE retention.hold_catalog IS
'Storage of legal holds; read it through retention.holds.';
SELECT pg_catalog.pg_extension_config_dump('retention.hold_catalog', '');
SELECT pg_catalog.pg_extension_config_dump('retention.hold_catalog_hold_id_seq', '');

CREATE FUNCTION retention.hold(kind text, id text, reason text, until timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'retention_hold'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.hold(text, text, text, timestamptz) IS
'Places a legal hold on one data subject until released or until (NULL: until released); returns the hold id. Held rows are skipped by policies and by erasure. For superusers and members of retention_officer. Errors: 42501, 42704 unknown kind, 22023 empty reason or until in the past, 22P02 invalid id.';

CREATE FUNCTION retention.hold_table(tbl regclass, reason text, until timestamptz DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'retention_hold_table'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.hold_table(regclass, text, timestamptz) IS
'Places a legal hold on a whole table (and its partitions); returns the hold id. Errors: 42501, 42809 not a table, 22023 empty reason or until in the past.';

CREATE FUNCTION retention.release(hold_id bigint)
RETURNS void
AS 'MODULE_PATHNAME', 'retention_release'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.release(bigint) IS
'Ends a legal hold; erasures that waited for it are carried out in the same transaction. Errors: 42501, 42704 no such hold, 55000 already released.';

CREATE VIEW retention.holds AS
    SELECT hold_id, kind, subject_id AS id, relid AS tbl, reason, until, created_at, created_by,
           released_at, released_by,
           released_at IS NULL AND (until IS NULL OR until > pg_catalog.now()) AS active
      FROM retention.hold_catalog;
COMMENT ON VIEW retention.holds IS
'Legal holds: on a data subject (kind, id) or a table, why, until when, who placed and released them, and whether they are active now.';

CREATE TABLE retention.erasure_ledger (
    erasure_id       uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    kind             text NOT NULL,
    subject_hash     bytea,
    key_fingerprint  text,
    requested_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    requested_by     name NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'done')),
    waiting_for      bigint[],
    completed_at     timestamptz,
    rows             bigint,
    applied_here     timestamptz
);
COMMENT ON TABLE retention.erasure_ledger IS
'Storage of the erasure ledger; read it through retention.erasures.';
SELECT pg_catalog.pg_extension_config_dump('retention.erasure_ledger', '');

CREATE VIEW retention.erasures AS
    SELECT erasure_id, kind, pg_catalog.encode(subject_hash, 'hex') AS subject_hash, key_fingerprint,
           requested_at, requested_by, status, waiting_for, completed_at, rows, applied_here
      FROM retention.erasure_ledger;
COMMENT ON VIEW retention.erasures IS
'The erasure ledger: every erasure, naming its subject by a keyed BLAKE2b hash (never the id), its status (pending while a legal hold lasts, done), the holds it waits for, when it was carried out here.';

CREATE FUNCTION retention.erase_subject(kind text, id text)
RETURNS TABLE (tbl regclass, action text, rows bigint)
AS 'MODULE_PATHNAME', 'retention_erase_subject'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.erase_subject(text, text) IS
'Erases one data subject from every table of its graph in one transaction, children first: rows are deleted, or anonymized where a table''s anonymize policy says they must be kept (and where kept rows still reference them). Returns what was done per table; an unknown id gives zero rows. A subject under a legal hold is not touched: the erasure is recorded as pending and carried out when the hold ends. Recorded in the erasure ledger by a keyed hash. For superusers and members of retention_officer. Errors: 42501, 42704 unknown kind, 22P02 invalid id.';

CREATE FUNCTION retention.replay_erasures(OUT erasure_id uuid, OUT kind text, OUT result text, OUT rows bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'retention_replay_erasures'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.replay_erasures() IS
'Applies the ledger entries not applied in this database yet (after a restore and import_erasures) and the pending ones whose holds ended: finds each subject again by hashing the keys of its table, and erases it. result: erased, held, absent. Errors: 42501, 55000 no key (the key the erasures were recorded with is needed).';

CREATE FUNCTION retention.export_erasures()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'retention_export_erasures'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.export_erasures() IS
'The erasure ledger as a jsonb array, to bring to a database restored from an older backup (retention.import_erasures). Errors: 42501.';

CREATE FUNCTION retention.import_erasures(entries jsonb)
RETURNS bigint
AS 'MODULE_PATHNAME', 'retention_import_erasures'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION retention.import_erasures(jsonb) IS
'Adds the ledger entries of export_erasures() that this ledger lacks (by erasure_id), to be applied by replay_erasures(); returns how many were added. Errors: 42501, 22023 not a JSON array.';

------------------------------------------------------------------------
-- DDL guards
------------------------------------------------------------------------

CREATE FUNCTION retention.on_sql_drop()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'retention_on_sql_drop'
LANGUAGE C;

COMMENT ON FUNCTION retention.on_sql_drop() IS
'Event trigger: refuses DROP COLUMN of a column a policy uses (SQLSTATE 2BP01) and removes the policies of dropped tables, recording it in the audit trail.';

CREATE EVENT TRIGGER retention_sql_drop ON sql_drop
    EXECUTE FUNCTION retention.on_sql_drop();

CREATE FUNCTION retention.on_ddl_end()
RETURNS event_trigger
AS 'MODULE_PATHNAME', 'retention_on_ddl_end'
LANGUAGE C;

COMMENT ON FUNCTION retention.on_ddl_end() IS
'Event trigger on ALTER TABLE, ALTER TYPE (typed tables) and CREATE INDEX: follows RENAME COLUMN in policies, refuses a type change that would leave an anchor column without a date or timestamp type (SQLSTATE 2BP01), and checks tags again so that a type change, SET NOT NULL or a unique index cannot leave a mask that no longer fits its column (the check''s own SQLSTATE).';

CREATE EVENT TRIGGER retention_ddl_end ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE', 'ALTER TYPE', 'CREATE INDEX')
    EXECUTE FUNCTION retention.on_ddl_end();

------------------------------------------------------------------------
-- Masks and the pseudonymization key
------------------------------------------------------------------------

CREATE FUNCTION retention.pseudonym(value text, context text DEFAULT '')
RETURNS text
AS 'MODULE_PATHNAME', 'retention_pseudonym'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.pseudonym(text, text) IS
'Keyed pseudonym of value: ''ps:'' and 24 lowercase hex digits (27 characters), BLAKE2b (libsodium) of the value''s bytes keyed with the subkey of context (default ''''). Same key and context give the same pseudonym; not reversible without the key. A value that already has this form is returned unchanged (idempotent). NULL gives NULL. Errors: 55000 retention.key_file empty; 58P01 / 42501 key file missing or unreadable; F0000 key file malformed or readable by group or others.';

CREATE FUNCTION retention.is_pseudonym(value text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'retention_is_pseudonym'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.is_pseudonym(text) IS
'True when value has the exact form of a pseudonym (''ps:'' and 24 lowercase hex digits). Needs no key; used to skip rows already anonymized.';

CREATE FUNCTION retention.mask_partial(value text, keep_start integer, keep_end integer, fill text DEFAULT '*')
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_partial'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.mask_partial(text, integer, integer, text) IS
'Keeps the first keep_start and last keep_end characters (not bytes) of value and replaces each character between them by fill (one character, default *); a value of keep_start + keep_end characters or fewer is replaced entirely. Length in characters is kept. Idempotent; NULL gives NULL. Errors: 22023 negative keep_start/keep_end, fill not exactly one character.';

CREATE FUNCTION retention.mask_email(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_email'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.mask_email(text) IS
'Masks an e-mail address: the first character of the local part (before the last @) and the whole domain stay, every other character of the local part becomes * (a one-character local part too): mary.smith@example.com -> m*********@example.com. Length kept; idempotent; NULL gives NULL.';

CREATE FUNCTION retention.mask_phone(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_phone'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.mask_phone(text) IS
'Masks a phone number digit by digit, keeping every other character in place: with 11 or more digits (after a +86 / 0086 country code, which stays) the first 3 and last 4 stay (13812345678 -> 138****5678), with 7 to 10 digits the last 2, with fewer none. Idempotent; NULL gives NULL.';

CREATE FUNCTION retention.mask_national_id(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_national_id'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.mask_national_id(text) IS
'Masks an identity number: an 18- or 15-character resident ID keeps its 6-digit administrative division code and hides birth date, sequence number and check character (11010519491231002X -> 110105************); any other value is hidden entirely. Spaces and hyphens stay. Idempotent; NULL gives NULL.';

CREATE FUNCTION retention.mask_card(value text)
RETURNS text
AS 'MODULE_PATHNAME', 'retention_mask_card'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.mask_card(text) IS
'Masks a payment card number: of 12 or more digits the last 4 stay, every other digit becomes * (4111 1111 1111 1234 -> **** **** **** 1234); a shorter number is hidden entirely. Spaces and hyphens stay. Idempotent; NULL gives NULL.';

CREATE FUNCTION retention.generalize(value inet, prefix integer)
RETURNS inet
AS 'MODULE_PATHNAME', 'retention_generalize_inet'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.generalize(inet, integer) IS
'Keeps the first prefix bits (0 to 32) of an IPv4 address, 2*prefix bits of an IPv6 address (96+prefix for IPv4-mapped ::ffff:a.b.c.d), zeroing the rest; the netmask becomes the smaller of the value''s and the kept bits: 192.0.2.77 -> 192.0.2.0/24 at 24, 2001:db8:85a3::7334 -> 2001:db8:85a3::/48. Idempotent; NULL gives NULL. Errors: 22023 prefix outside 0..32.';

CREATE FUNCTION retention.generalize(value timestamptz, unit text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'retention_generalize_timestamptz'
LANGUAGE C STRICT STABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.generalize(timestamptz, text) IS
'Truncates value to the start of its decade, year, quarter, month, week (Monday), day or hour in the session''s TimeZone. Idempotent; NULL gives NULL. Errors: 22023 other unit.';

CREATE FUNCTION retention.generalize(value timestamptz, unit text, time_zone text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'retention_generalize_timestamptz_zone'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.generalize(timestamptz, text, text) IS
'Truncates value to the start of its decade, year, quarter, month, week (Monday), day or hour on the wall clock of time_zone (anonymize policies pass their own time zone). Idempotent; NULL gives NULL. Errors: 22023 other unit or unknown time zone.';

CREATE FUNCTION retention.generalize(value timestamp, unit text)
RETURNS timestamp
AS 'MODULE_PATHNAME', 'retention_generalize_timestamp'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.generalize(timestamp, text) IS
'Truncates value to the start of its decade, year, quarter, month, week (Monday), day or hour. Idempotent; NULL gives NULL. Errors: 22023 other unit.';

CREATE FUNCTION retention.generalize(value date, unit text)
RETURNS date
AS 'MODULE_PATHNAME', 'retention_generalize_date'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.generalize(date, text) IS
'Returns the first day of the decade, year, quarter, month or week (Monday) of value, or value itself for day: 2024-02-29 -> 2024-02-01 for month. Idempotent; NULL gives NULL. Errors: 22023 other unit (hour included).';

CREATE FUNCTION retention.generalize(value numeric, step numeric)
RETURNS numeric
AS 'MODULE_PATHNAME', 'retention_generalize_numeric'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION retention.generalize(numeric, numeric) IS
'Rounds value down to a multiple of step: floor(value / step) * step, exactly (37 -> 30 and -17 -> -20 for step 10). Idempotent; NULL gives NULL. Errors: 22023 step not a positive finite number.';

CREATE FUNCTION retention.index_advice(policy_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'retention_index_advice'
LANGUAGE C STRICT STABLE;

COMMENT ON FUNCTION retention.index_advice(bigint) IS
'The CREATE INDEX statement with which runs of a policy read only the rows they act on: for delete, a btree index on the anchor; for anonymize, a partial index on the anchor holding just the rows still to anonymize, so that runs cost what the newly expired rows cost, not the history. Run it with \gexec. Errors: 42704 unknown policy; 42P01 its table is gone.';

CREATE FUNCTION retention.key_fingerprint()
RETURNS text
AS 'MODULE_PATHNAME', 'retention_key_fingerprint'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.key_fingerprint() IS
'Fingerprint of the pseudonymization key in use: 16 hex digits derived from the key through the one-way KDF, so it tells keys apart without revealing them. Errors: as retention.pseudonym (55000, 58P01, 42501, F0000).';

CREATE FUNCTION retention.create_key(path text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'retention_create_key'
LANGUAGE C VOLATILE;

COMMENT ON FUNCTION retention.create_key(text) IS
'Superuser only: writes a new random 256-bit key (64 hex digits and a newline) to path (NULL: retention.key_file; relative paths start at the data directory), mode 0600, refusing to overwrite an existing file, and returns its fingerprint. The key is in use once retention.key_file names the file. Errors: 42501 not superuser; 58P02 file exists; 22023 no path; 58P01 / 42501 directory missing or not writable.';

------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------

REVOKE ALL ON retention.policy_catalog, retention.run_history, retention.audit,
              retention.audit_head, retention.subject_catalog, retention.subject_link_catalog,
              retention.hold_catalog, retention.erasure_ledger FROM PUBLIC;
GRANT USAGE ON SCHEMA retention TO PUBLIC;
GRANT SELECT ON retention.categories, retention.personal_columns, retention.policies,
                retention.runs, retention.status, retention.subjects, retention.subject_graph TO PUBLIC;
-- people who handle requests see holds and erasures; auditors see the trail as well
GRANT SELECT ON retention.holds, retention.erasures, retention.audit TO retention_officer, retention_auditor;
REVOKE ALL ON FUNCTION retention.on_sql_drop(), retention.on_ddl_end(),
                       retention.audit_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION retention.create_key(text) FROM PUBLIC;
