-- Pseudonyms without a key: the form, idempotence on pseudonym-shaped values,
-- and the errors of a missing, unreadable or unnamed key.  Keyed outputs
-- (which need a key file the test writes itself) are in tests/t/200_key_file.pl.
\pset null '(null)'
SET retention.key_file = '';

-- the form of a pseudonym: "ps:" and 24 lowercase hexadecimal digits
SELECT v, retention.is_pseudonym(v) AS is_pseudonym
  FROM (VALUES ('ps:0123456789abcdef01234567'), ('ps:0123456789ABCDEF01234567'),
               ('ps:0123456789abcdef0123456'), ('ps:0123456789abcdef012345678'),
               ('px:0123456789abcdef01234567'), ('ps:0123456789abcdef0123456g'),
               (' ps:0123456789abcdef01234567'), (''), (NULL)) AS t(v);

-- a value that already is a pseudonym is returned as it is, without a key
SELECT retention.pseudonym('ps:0123456789abcdef01234567') AS unchanged,
       retention.pseudonym('ps:0123456789abcdef01234567', 'other context') AS unchanged_any_context,
       retention.pseudonym(NULL) IS NULL AS null_in,
       retention.pseudonym('x', NULL) IS NULL AS null_context;

-- no key configured
SELECT retention.pseudonym('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.key_fingerprint();
\echo :LAST_ERROR_SQLSTATE
-- a key file that does not exist
SET retention.key_file = '/nonexistent/pg_retention_regress.key';
SELECT retention.pseudonym('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.key_fingerprint();
\echo :LAST_ERROR_SQLSTATE
-- a directory is not a key file
SET retention.key_file = '.';
SELECT retention.pseudonym('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
RESET retention.key_file;

-- create_key refuses to overwrite a file and to run without a path (PG_VERSION is in
-- every data directory; postgresql.conf is not where Debian's clusters keep it in /etc)
SELECT retention.create_key('PG_VERSION');
\echo :LAST_ERROR_SQLSTATE
SET retention.key_file = '';
SELECT retention.create_key();
\echo :LAST_ERROR_SQLSTATE
SELECT retention.create_key('');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.create_key('/nonexistent/dir/pg_retention.key');
\echo :LAST_ERROR_SQLSTATE
RESET retention.key_file;

-- only superusers see the setting, set it or create keys
CREATE ROLE regress_rt_plain;
SET ROLE regress_rt_plain;
SHOW retention.key_file;
\echo :LAST_ERROR_SQLSTATE
SET retention.key_file = '/tmp/other.key';
\echo :LAST_ERROR_SQLSTATE
SELECT retention.create_key('/tmp/pg_retention_regress_never.key');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS visible_key_settings FROM pg_settings WHERE name = 'retention.key_file';
-- pseudonym is not open to all: whoever can compute pseudonyms can test guesses
-- against stored ones (docs/reference.md#masks-and-the-pseudonymization-key); the engine's form refuses outside the engine
SELECT retention.pseudonym('ps:0123456789abcdef01234567');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.mask_pseudonym('alice@example.com');
\echo :LAST_ERROR_SQLSTATE
-- key_fingerprint is (it reveals nothing of the key); with no key it says so
SELECT retention.key_fingerprint();
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
DROP ROLE regress_rt_plain;

SELECT name, context, vartype, boot_val
  FROM pg_settings WHERE name = 'retention.key_file';
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       has_function_privilege('retention_officer', p.oid, 'EXECUTE') AS officer_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND p.proname IN ('pseudonym', 'mask_pseudonym', 'is_pseudonym', 'key_fingerprint', 'create_key')
 ORDER BY p.oid::regprocedure::text;
