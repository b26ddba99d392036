-- A kind of data subject goes with its table (as policies do: pg_restore --clean
-- drops every table before restoring it), its key column cannot be dropped under
-- it (every statement that reads the subjects would fail); a table or column a
-- link names takes the link along; all audited.  A kind whose table was dropped
-- behind the event trigger's back breaks nothing else and a superuser can drop it.
SET client_min_messages = warning;
SELECT setval('retention.policy_catalog_policy_id_seq', 4500) IS NOT NULL AS ids_pinned;
CREATE TABLE sd_cust (id int PRIMARY KEY, email text);
CREATE TABLE sd_weblog (cust int, path text);
CREATE TABLE sd_other (id int, at timestamptz);
INSERT INTO sd_other VALUES (1, '2020-01-01');
SELECT retention.add_subject('sd_customer', 'sd_cust', 'id');
SELECT retention.link_subject('sd_customer', 'sd_weblog', 'cust');
SELECT retention.add_policy('sd_other', '30 days', 'at') AS other \gset
ALTER TABLE sd_cust DROP COLUMN id;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE sd_cust DROP COLUMN email;
DROP TABLE sd_weblog;
SELECT kind, tbl FROM retention.subject_graph WHERE kind = 'sd_customer';
SELECT event, tbl, details FROM retention.audit WHERE event = 'subject_link_dropped_with_table';
DROP TABLE sd_cust;
SELECT count(*) AS kinds_left FROM retention.subjects WHERE kind = 'sd_customer';
SELECT event, tbl, details FROM retention.audit WHERE event = 'subject_dropped_with_table';
-- with the trigger switched off by a superuser, a kind is left without its table
CREATE TABLE sd_cust (id int PRIMARY KEY, email text);
SELECT retention.add_subject('sd_customer', 'sd_cust', 'id');
ALTER EVENT TRIGGER retention_sql_drop DISABLE;
DROP TABLE sd_cust;
ALTER EVENT TRIGGER retention_sql_drop ENABLE ALWAYS;
SET client_min_messages = notice;
CALL retention.run('sd_other', '2022-01-01');
SET client_min_messages = warning;
SELECT retention.drop_subject('sd_customer');
SELECT count(*) AS kinds_left FROM retention.subjects WHERE kind = 'sd_customer';
SELECT retention.drop_policy(:other);
DROP TABLE sd_other;
