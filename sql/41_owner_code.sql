-- Code a table owner wrote (domain CHECKs, CHECK constraints) runs as that owner, never as the
-- superuser or officer who calls pg_retention; catalog statements ignore the caller's search_path.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 4100) IS NOT NULL AS ids_pinned;
CREATE ROLE rt_code_owner;
CREATE ROLE rt_code_officer IN ROLE retention_officer;
CREATE SCHEMA owner_code AUTHORIZATION rt_code_owner;
CREATE TABLE owner_code.ran_as (fn text, who name);
GRANT INSERT ON owner_code.ran_as TO PUBLIC;
SET ROLE rt_code_owner;
-- records who runs it and answers true
CREATE FUNCTION owner_code.spy(fn text, v text DEFAULT '') RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO owner_code.ran_as VALUES (fn, current_user);
  RETURN true;
END $$;
CREATE DOMAIN owner_code.cust_id AS int CHECK (owner_code.spy('domain check'));
CREATE TABLE owner_code.customer (id owner_code.cust_id PRIMARY KEY, name text);
INSERT INTO owner_code.customer VALUES (1, 'a'), (2, 'b');
CREATE TABLE owner_code.notes (id int PRIMARY KEY, at timestamptz, note text CHECK (owner_code.spy('check constraint', note)));
INSERT INTO owner_code.notes VALUES (1, '2020-01-01', 'x');
SELECT retention.tag('owner_code.notes', 'note', 'free_text', 'constant(gone)');
SELECT retention.add_policy('owner_code.notes', '30 days', 'at', 'anonymize') AS notes_policy;
SELECT retention.add_subject('customer_oc', 'owner_code.customer', 'id');
RESET ROLE;
TRUNCATE owner_code.ran_as;
-- the advised index, created by a superuser, re-checks the mask as the table's owner
SELECT retention.index_advice(4101) \gexec
ALTER TABLE owner_code.notes ALTER COLUMN note SET STATISTICS 200;
-- access, holds and erasure read the key as the table's owner
SET ROLE rt_code_officer;
SELECT retention.subject_data('customer_oc', '2') -> 'tables' -> 0 -> 'count' AS customer_rows;
SELECT retention.hold('customer_oc', '2', 'court order') AS hold_id \gset
SELECT tbl, action, rows FROM retention.erase_subject('customer_oc', '2');
SELECT retention.release(:hold_id);
RESET ROLE;
SELECT fn, who, count(*) > 0 AS ran FROM owner_code.ran_as GROUP BY fn, who ORDER BY fn, who;
SELECT id FROM owner_code.customer ORDER BY id;

-- a hostile search_path cannot put an operator into the statements on the extension's tables
GRANT CREATE ON DATABASE contrib_regression TO rt_code_officer;
SET ROLE rt_code_officer;
CREATE SCHEMA trap;
CREATE FUNCTION trap.arrow(j jsonb, k text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO owner_code.ran_as VALUES ('trap operator', current_user);
  RETURN j OPERATOR(pg_catalog.->>) k;
END $$;
CREATE OPERATOR trap.->> (leftarg = jsonb, rightarg = text, function = trap.arrow);
CREATE FUNCTION trap.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'array' $$;
SET search_path = trap, pg_catalog;
SELECT retention.import_erasures('[{"erasure_id":"00000000-0000-0000-0000-0000000000aa","kind":"customer_oc","subject_hash":"00","status":"done","requested_by":"x","requested_at":"2020-01-01"}]');
RESET search_path;
RESET ROLE;
SELECT count(*) AS trap_runs FROM owner_code.ran_as WHERE fn = 'trap operator';
SELECT kind, status FROM retention.erasure_ledger WHERE erasure_id = '00000000-0000-0000-0000-0000000000aa';

DELETE FROM retention.erasure_ledger WHERE erasure_id = '00000000-0000-0000-0000-0000000000aa';
DROP SCHEMA trap CASCADE;
REVOKE CREATE ON DATABASE contrib_regression FROM rt_code_officer;
SELECT retention.drop_subject('customer_oc');
SELECT retention.drop_policy(4101);
DROP SCHEMA owner_code CASCADE;
DROP ROLE rt_code_officer;
DROP ROLE rt_code_owner;
