-- Privileges: a role that does not own a table can change nothing about its
-- retention; a policy runs as the table's owner; the extension is not trusted,
-- has no SECURITY DEFINER function, and its catalogs are closed to ordinary roles.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 6000) IS NOT NULL AS ids_pinned;
CREATE ROLE sec_alice;                                  -- owns the application's tables
CREATE ROLE sec_bob;                                    -- another application role
CREATE ROLE sec_officer;                                -- handles data-subject requests
GRANT retention_officer TO sec_officer;
CREATE SCHEMA sec_app AUTHORIZATION sec_alice;
GRANT USAGE ON SCHEMA sec_app TO sec_bob, sec_officer;
SET ROLE sec_alice;
CREATE TABLE sec_app.orders (id int PRIMARY KEY, email text, placed timestamptz NOT NULL);
INSERT INTO sec_app.orders SELECT g, 'buyer' || g || '@example.com', timestamptz '2022-01-01' + g * interval '1 day'
  FROM generate_series(1, 10) g;
-- bob may read and change every row: that still does not make him the owner
GRANT SELECT, INSERT, UPDATE, DELETE ON sec_app.orders TO sec_bob;
SELECT retention.tag('sec_app.orders', 'email', 'email');
SELECT retention.add_policy('sec_app.orders', '30 days', 'placed') AS pol \gset
SELECT retention.add_subject('sec_buyer', 'sec_app.orders', 'id');
RESET ROLE;

-- the stranger: every change to the table's retention is refused with 42501
SET ROLE sec_bob;
SELECT retention.tag('sec_app.orders', 'placed', 'other');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.untag('sec_app.orders', 'email');
\echo :LAST_ERROR_SQLSTATE
SECURITY LABEL FOR retention ON COLUMN sec_app.orders.email IS 'other';
\echo :LAST_ERROR_SQLSTATE
SECURITY LABEL FOR retention ON COLUMN sec_app.orders.email IS NULL;
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('sec_app.orders', '1 day', 'placed');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:pol, keep => '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:pol, enabled => false);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.drop_policy(:pol);
\echo :LAST_ERROR_SQLSTATE
CALL retention.run('sec_app.orders', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
-- run() without a table runs only the caller's own tables: none here
CALL retention.run();
SELECT retention.add_subject('sec_other', 'sec_app.orders', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.link_subject('sec_buyer', 'sec_app.orders', 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.drop_subject('sec_buyer');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold('sec_buyer', '3', 'I say so');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold_table('sec_app.orders', 'I say so');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.erase_subject('sec_buyer', '3');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.subject_data('sec_buyer', '3');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.replay_erasures();
\echo :LAST_ERROR_SQLSTATE
SELECT retention.export_erasures();
\echo :LAST_ERROR_SQLSTATE
SELECT retention.import_erasures('[]');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.create_key('/tmp/pg_retention_sec_bob.key');
\echo :LAST_ERROR_SQLSTATE
-- the catalogs behind the views: no reading, no writing around the functions
INSERT INTO retention.policy_catalog (relid, keep, anchor, action, time_zone, created_by)
  VALUES ('sec_app.orders', '1 day', 'placed', 'delete', 'UTC', 'sec_bob');
\echo :LAST_ERROR_SQLSTATE
UPDATE retention.policy_catalog SET keep = '1 day';
\echo :LAST_ERROR_SQLSTATE
DELETE FROM retention.policy_catalog;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM retention.run_history;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO retention.hold_catalog (relid, reason, created_by) VALUES ('sec_app.orders', 'x', 'sec_bob');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM retention.audit;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM retention.audit;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM retention.holds;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM retention.erasures;
\echo :LAST_ERROR_SQLSTATE
-- settings only a superuser may change or see
SET retention.min_keep = 1;
\echo :LAST_ERROR_SQLSTATE
SET retention.key_file = '/tmp/pg_retention_sec_bob.key';
\echo :LAST_ERROR_SQLSTATE
SHOW retention.key_file;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS key_file_visible FROM pg_settings WHERE name = 'retention.key_file';
-- the extension itself
DROP EXTENSION pg_retention;
\echo :LAST_ERROR_SQLSTATE
ALTER EXTENSION pg_retention UPDATE;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- nothing the stranger tried left a trace
SELECT policy_id = :pol AS same_policy, keep, enabled FROM retention.policies WHERE tbl = 'sec_app.orders'::regclass;
SELECT column_name, category, mask FROM retention.personal_columns WHERE schema_name = 'sec_app';
SELECT count(*) AS holds FROM retention.holds WHERE tbl = 'sec_app.orders'::regclass OR kind = 'sec_buyer';
SELECT count(*) AS orders FROM sec_app.orders;
SELECT kind, key FROM retention.subjects WHERE kind LIKE 'sec_%';

-- what the stranger sees: preview and runs only of tables it may read
SET ROLE sec_alice;
CALL retention.run('sec_app.orders', '2022-02-05');
RESET ROLE;
SET ROLE sec_bob;
SELECT count(*) AS previewed FROM retention.preview('2022-01-25') WHERE tbl = 'sec_app.orders'::regclass;
SELECT rows, status FROM retention.runs WHERE policy_id = :pol;
RESET ROLE;
SET ROLE sec_alice;
REVOKE SELECT ON sec_app.orders FROM sec_bob;
RESET ROLE;
SET ROLE sec_bob;
SELECT count(*) AS previewed FROM retention.preview('2022-01-25') WHERE tbl = 'sec_app.orders'::regclass;
SELECT count(*) AS runs_seen FROM retention.runs WHERE policy_id = :pol;
RESET ROLE;

-- the officer handles requests on any subject, but is not the table's owner either
SET ROLE sec_officer;
SELECT retention.hold('sec_buyer', '30', 'court order 60/2026') AS hold_id \gset
SELECT retention.release(:hold_id);
SELECT tbl::text, action, rows FROM retention.erase_subject('sec_buyer', '3');
SELECT retention.tag('sec_app.orders', 'placed', 'other');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('sec_app.orders', '1 day', 'placed');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- a policy on alice's table runs as alice, whoever starts it: a mask that reads
-- a table alice may not read fails the run, and nothing is anonymized
CREATE TABLE sec_app.payroll (salary int);
INSERT INTO sec_app.payroll VALUES (100);
REVOKE ALL ON sec_app.payroll FROM sec_alice;
ALTER TABLE sec_app.payroll OWNER TO sec_bob;
SET ROLE sec_alice;
CREATE FUNCTION sec_app.peek(text) RETURNS text LANGUAGE sql
  AS $$ SELECT $1 || (SELECT count(*) FROM sec_app.payroll)::text $$;
CREATE TABLE sec_app.notes (id int PRIMARY KEY, note text, at timestamptz NOT NULL);
INSERT INTO sec_app.notes VALUES (1, 'secret plans', '2022-01-01');
SELECT retention.tag('sec_app.notes', 'note', 'free_text', 'function(sec_app.peek)');
SELECT retention.add_policy('sec_app.notes', '30 days', 'at', 'anonymize') AS notes_pol \gset
RESET ROLE;
CALL retention.run('sec_app.notes', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT note FROM sec_app.notes;
SELECT rows, status, error FROM retention.runs WHERE policy_id = :notes_pol;

-- the extension is not trusted: only a superuser may create it
SELECT version, superuser, trusted FROM pg_available_extension_versions
 WHERE name = 'pg_retention' ORDER BY version;
CREATE DATABASE sec_other;
GRANT CREATE ON DATABASE sec_other TO sec_bob;
\set regress_db :DBNAME
\c sec_other
SET ROLE sec_bob;
CREATE EXTENSION pg_retention;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'pg_retention';
\c :regress_db
SET timezone = 'UTC';
DROP DATABASE sec_other;

-- no function of the extension is SECURITY DEFINER (any that were would have to pin
-- search_path = pg_catalog, pg_temp), none is leakproof, and the internal ones are not PUBLIC's
SELECT count(*) AS functions,
       count(*) FILTER (WHERE p.prosecdef) AS security_definer,
       count(*) FILTER (WHERE p.prosecdef AND NOT coalesce(p.proconfig, '{}') @> '{"search_path=pg_catalog, pg_temp"}') AS unpinned,
       count(*) FILTER (WHERE p.proleakproof) AS leakproof
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_proc'::regclass AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_retention');
SELECT p.oid::regprocedure AS not_for_public
  FROM pg_proc p WHERE p.pronamespace = 'retention'::regnamespace
   AND NOT has_function_privilege('sec_bob', p.oid, 'EXECUTE') ORDER BY 1;
-- no table of the extension grants anything to an ordinary role; the schema is a superuser's
SELECT c.relname AS open_to_bob FROM pg_class c
 WHERE c.relnamespace = 'retention'::regnamespace AND c.relkind IN ('r', 'S')
   AND has_table_privilege('sec_bob', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER');
SELECT r.rolsuper AS schema_owner_is_superuser, has_schema_privilege('sec_bob', 'retention', 'CREATE') AS bob_creates
  FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'retention';
-- even a superuser cannot rewrite the audit trail
UPDATE retention.audit SET rows = 0 WHERE seq = 1;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE retention.audit;
\echo :LAST_ERROR_SQLSTATE

-- clean up
SELECT retention.drop_policy(:pol);
SELECT retention.drop_policy(:notes_pol);
SELECT retention.drop_subject('sec_buyer');
DROP SCHEMA sec_app CASCADE;
REVOKE retention_officer FROM sec_officer;
DROP ROLE sec_alice, sec_bob, sec_officer;
