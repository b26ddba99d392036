-- The ledger file (retention.ledger_file): every committed erasure is also
-- recorded outside the data directory, confirmed after its commit; one that
-- rolls back (whole, to a savepoint, on an error) never appears as done; a
-- prepared transaction cannot hold one; the file holds tokens, never an id;
-- an unsafe, damaged or missing file is a clear error naming it.
-- Paths depend on the test cluster: errors go through pg_temp.try(), which
-- names the file <ledger file>.
\set VERBOSITY terse
-- a directory of its own outside the data directory (whose parent a packaging build may
-- not let the server write to)
SELECT '/tmp/pg_retention_regress_71_' || pg_backend_pid() || '_' || extract(epoch FROM clock_timestamp())::bigint
       AS dir \gset
SELECT :'dir' || '/ledger' AS ledger, :'dir' || '/key' AS keyfile \gset
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', cmd); END $$;
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE sql;
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || replace(SQLERRM, current_setting('retention.ledger_file'), '<ledger file>');
END $$;
SELECT pg_temp.sh('mkdir -m 700 ' || :'dir');

SELECT set_config('retention.key_file', :'keyfile', false) IS NOT NULL AS key_set;
SELECT length(retention.create_key()) AS fingerprint_length;
-- a relative path is refused when set
SET retention.ledger_file = 'pg_retention.ledger';
SELECT set_config('retention.ledger_file', :'ledger', false) IS NOT NULL AS ledger_set;

CREATE TABLE lf_customer (id int PRIMARY KEY, name text);
CREATE TABLE lf_order (id int PRIMARY KEY, customer_id int REFERENCES lf_customer);
INSERT INTO lf_customer SELECT g, 'Alice' || g FROM generate_series(7001, 7010) g;
INSERT INTO lf_order SELECT g, 7000 + g FROM generate_series(1, 10) g;
SELECT retention.tag('lf_customer', 'name', 'name');
SELECT retention.add_subject('customer', 'lf_customer', 'id');

-- no file yet: the first erasure creates it, mode 0600
SELECT * FROM retention.erase_subject('customer', '7001');
SELECT (pg_stat_file(:'ledger')).size > 0 AS created;
SELECT line, type, ledger IS NOT NULL AS has_ledger, txn IS NOT NULL AS has_txn, kind, status, outcome
  FROM retention.ledger_entries() ORDER BY line;
-- the file names the subject by the ledger's token, never by its id or a name
SELECT e.subject_hash = l.subject_hash AS same_token
  FROM retention.ledger_entries() e JOIN retention.erasures l USING (erasure_id);
-- (the id as a token of its own: '7001' also occurs by chance inside hex tokens, uuids and timestamps)
SELECT pg_read_file(:'ledger') !~ '(^|[^0-9A-Za-z.-])7001([^0-9A-Za-z.-]|$)' AS no_id,
       position('Alice' IN pg_read_file(:'ledger')) = 0 AS no_name;

-- rolled back: whole, to a savepoint, by an error; none is recorded
BEGIN;
SELECT count(*) FROM retention.erase_subject('customer', '7002');
ROLLBACK;
BEGIN;
SAVEPOINT before_erasure;
SELECT count(*) FROM retention.erase_subject('customer', '7003');
ROLLBACK TO SAVEPOINT before_erasure;
SELECT count(*) FROM retention.erase_subject('customer', '7004');
COMMIT;
BEGIN;
SELECT count(*) FROM retention.erase_subject('customer', '7005');
SELECT 1 / 0;
COMMIT;
-- a prepared transaction would commit later, perhaps elsewhere: refused
BEGIN;
SELECT count(*) FROM retention.erase_subject('customer', '7006');
PREPARE TRANSACTION 'lf_erasure';
SELECT count(*) AS customers_left FROM lf_customer;
SELECT e.line, e.type, e.status, e.outcome, l.rows
  FROM retention.ledger_entries() e LEFT JOIN retention.erasures l USING (erasure_id)
 WHERE e.line > 1 ORDER BY e.line;
SELECT count(*) AS erasures_in_file FROM retention.ledger_entries() WHERE type = 'erasure';

-- unsafe: open to the group
SELECT pg_temp.sh('chmod 640 ' || :'ledger');
SELECT pg_temp.try($$SELECT count(*) FROM retention.erase_subject('customer', '7007')$$);
SELECT pg_temp.try('SELECT count(*) FROM retention.ledger_entries()');
SELECT pg_temp.sh('chmod 600 ' || :'ledger');

-- damaged in the middle: reading it names the line; its last line damaged: erasures refused
SELECT pg_temp.sh('cp -p ' || :'ledger' || ' ' || :'ledger' || '.copy');
SELECT pg_temp.sh('sed -i ''2s/"customer"/"kustomer"/'' ' || :'ledger');
SELECT pg_temp.try('SELECT count(*) FROM retention.ledger_entries()');
SELECT pg_temp.sh('sed -i ''$s/\t[0-9a-f]*$/\tdamaged/'' ' || :'ledger');
-- the erasure's lines are written before the commit: the commit fails and the erasure rolls back
\set VERBOSITY sqlstate
SELECT count(*) FROM retention.erase_subject('customer', '7007');
\set VERBOSITY terse
SELECT replace(:'LAST_ERROR_MESSAGE', :'ledger', '<ledger file>') AS commit_error;
SELECT count(*) AS still_there FROM lf_customer WHERE id = 7007;
SELECT pg_temp.sh('cp -p ' || :'ledger' || '.copy ' || :'ledger');

-- missing after this database wrote to it
SELECT pg_temp.sh('mv ' || :'ledger' || ' ' || :'ledger' || '.moved');
SELECT pg_temp.try($$SELECT count(*) FROM retention.erase_subject('customer', '7007')$$);
SELECT pg_temp.try('SELECT count(*) FROM retention.ledger_entries()');
SELECT pg_temp.sh('mv ' || :'ledger' || '.moved ' || :'ledger');
SELECT count(*) FROM retention.erase_subject('customer', '7007');
SELECT count(*) AS erasures_in_file, count(*) FILTER (WHERE outcome = 'committed') AS committed
  FROM retention.ledger_entries() WHERE type = 'erasure';

-- inside the data directory: refused (a base backup would carry an old copy along)
SELECT set_config('retention.ledger_file', current_setting('data_directory') || '/pg_retention.ledger', false) IS NOT NULL;
SELECT pg_temp.try($$SELECT count(*) FROM retention.erase_subject('customer', '7008')$$);
SELECT set_config('retention.ledger_file', :'ledger', false) IS NOT NULL;

-- no restore here: nothing waits, and resume() says so; only a superuser or the database owner may call it
SELECT count(*) AS restores FROM retention.restores;
SELECT DISTINCT restore_grace_until FROM retention.status;
SELECT retention.resume();
CREATE ROLE lf_stranger;
SET ROLE lf_stranger;
SELECT retention.resume();
SELECT count(*) FROM retention.ledger_entries();
RESET ROLE;
DROP ROLE lf_stranger;
SELECT pg_temp.sh('rm -f ' || :'ledger' || ' ' || :'ledger' || '.* ' || :'keyfile' || '; rmdir ' || :'dir');
SELECT retention.drop_subject('customer');
DROP TABLE lf_order, lf_customer;
RESET retention.ledger_file;
RESET retention.key_file;
