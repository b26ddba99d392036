-- Who may compute pseudonyms.  Whoever can call retention.pseudonym() can test a
-- guess against a stored pseudonym ("is ps:... the pseudonym of alice@example.com?"),
-- so it is not executable by PUBLIC (docs/reference.md#masks-and-the-pseudonymization-key: not reversible without the
-- key).  Superusers, members of retention_officer and roles granted EXECUTE may;
-- the anonymize engine masks through retention.mask_pseudonym(), which computes
-- only while the engine acts as the table's owner.
\set regress_db :DBNAME
CREATE DATABASE regress_rt_eng_pseudonym;
\c regress_rt_eng_pseudonym
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
SELECT setval('retention.policy_catalog_policy_id_seq', 3310) IS NOT NULL AS ids_pinned;
DO $$BEGIN
  IF pg_stat_file('pg_retention_33_eng.key', true) IS NULL THEN
    PERFORM retention.create_key('pg_retention_33_eng.key');
  END IF;
END$$;
SET retention.key_file = 'pg_retention_33_eng.key';
RESET client_min_messages;
CREATE ROLE rt_eng_owner;
CREATE ROLE rt_eng_officer IN ROLE retention_officer;
CREATE ROLE rt_eng_analyst;
CREATE ROLE rt_eng_joiner;
GRANT CREATE ON SCHEMA public TO rt_eng_owner;
-- a DBA lets one role pseudonymize values to join on them
GRANT EXECUTE ON FUNCTION retention.pseudonym(text, text) TO rt_eng_joiner;
-- the superuser's answers, to compare with
CREATE TABLE expected AS
  SELECT retention.pseudonym('alice@example.com') AS alice, retention.pseudonym('alice@example.com', 'mail') AS alice_mail;
GRANT SELECT ON expected TO PUBLIC;

-- a table owner with no grant: the table is masked by the engine all the same
SET ROLE rt_eng_owner;
CREATE TABLE customers(id int PRIMARY KEY, email text UNIQUE, closed date);
INSERT INTO customers VALUES (1, 'alice@example.com', '2001-01-01'), (2, 'bob@example.com', NULL);
GRANT SELECT ON customers TO rt_eng_analyst;
SELECT retention.tag('customers', 'email', 'email', 'pseudonym(mail)');
SET client_min_messages = warning;
SELECT retention.add_policy('customers', '1 year', 'closed', 'anonymize') AS p_customers \gset
RESET client_min_messages;
CALL retention.run('customers');
SELECT id, retention.is_pseudonym(email) AS masked FROM customers ORDER BY id;
-- ... but may not compute pseudonyms itself, in either form
SELECT retention.pseudonym('alice@example.com', 'mail');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.mask_pseudonym('alice@example.com', 'mail');
\echo :LAST_ERROR_SQLSTATE
-- not even in the transaction of a run that just failed inside the engine (the
-- superuser points the key at a missing file, so the engine's pseudonym fails)
RESET ROLE;
BEGIN;
SET LOCAL retention.key_file = 'no_such_file.key';
SET LOCAL ROLE rt_eng_owner;
INSERT INTO customers VALUES (3, 'dave@example.com', '2001-01-01');
DO $$BEGIN
  CALL retention.run('customers');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'the run failed inside the engine: %', SQLSTATE;
END$$;
SELECT retention.mask_pseudonym('alice@example.com', 'mail');
ROLLBACK;

-- an analyst who reads the masked table cannot test guesses
SET ROLE rt_eng_analyst;
SELECT count(*) AS masked_rows_visible FROM customers WHERE retention.is_pseudonym(email);
SELECT count(*) FROM customers WHERE email = retention.pseudonym('alice@example.com', 'mail');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM customers WHERE email = retention.mask_pseudonym('alice@example.com', 'mail');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- an officer, and a role granted EXECUTE, get the same pseudonyms as the engine wrote
SET ROLE rt_eng_officer;
SELECT retention.pseudonym('alice@example.com', 'mail') = (SELECT alice_mail FROM expected) AS officer_same,
       retention.pseudonym('alice@example.com') = (SELECT alice FROM expected) AS officer_default_context;
RESET ROLE;
SET ROLE rt_eng_joiner;
SELECT retention.pseudonym('alice@example.com', 'mail') = (SELECT alice_mail FROM expected) AS joiner_same,
       retention.mask_pseudonym('alice@example.com', 'mail') = (SELECT alice_mail FROM expected) AS joiner_mask_form;
RESET ROLE;
SELECT c.email = e.alice_mail AS engine_wrote_the_pseudonym FROM customers c, expected e WHERE c.id = 1;

-- privileges as declared
SELECT p.oid::regprocedure AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       has_function_privilege('retention_officer', p.oid, 'EXECUTE') AS officer_execute,
       has_function_privilege('rt_eng_joiner', p.oid, 'EXECUTE') AS joiner_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND p.proname IN ('pseudonym', 'mask_pseudonym')
 ORDER BY 1::text;

\c :regress_db
DROP DATABASE regress_rt_eng_pseudonym;
DROP ROLE rt_eng_owner;
DROP ROLE rt_eng_officer;
DROP ROLE rt_eng_analyst;
DROP ROLE rt_eng_joiner;
