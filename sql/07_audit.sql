-- The audit trail: entries for every change, a verifiable chain, append-only
SET timezone = 'UTC';
-- policy ids of this file start at 701, whatever the files before it did
SELECT setval('retention.policy_catalog_policy_id_seq', 700) IS NOT NULL AS ids_pinned;
SELECT event, count(*) FROM retention.audit GROUP BY event ORDER BY event;
-- every entry is chained to the one before it
SELECT count(*) AS entries, bool_and(prev_hash IS NOT NULL OR seq = 1) AS chained,
       bool_and(length(hash) = 32) AS blake2b_256
  FROM retention.audit;
SELECT a.seq FROM retention.audit a JOIN retention.audit b ON b.seq = a.seq + 1
 WHERE b.prev_hash IS DISTINCT FROM a.hash;
SELECT ok, entries = (SELECT count(*) FROM retention.audit) AS all_checked, first_bad
  FROM retention.verify_audit();
-- a run records who ran it and what it did
CREATE TABLE notes (id int PRIMARY KEY, written timestamptz);
INSERT INTO notes SELECT g, timestamptz '2022-01-01' + g * interval '1 day' FROM generate_series(1, 10) g;
SELECT retention.add_policy('notes', '7 days', 'written') AS pol \gset
CALL retention.run('notes', '2022-01-12 00:00+00');
SELECT actor, event, tbl, rows, details->>'status' AS status, details->>'policy_id' = :'pol' AS ours
  FROM retention.audit ORDER BY seq DESC LIMIT 2;
-- nobody changes the trail, not even its owner, without disabling the guard
UPDATE retention.audit SET rows = 0 WHERE seq = 1;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM retention.audit WHERE seq = 1;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE retention.audit;
\echo :LAST_ERROR_SQLSTATE
-- an ordinary role may not even read it unless granted
CREATE ROLE retention_reader;
SET ROLE retention_reader;
SELECT count(*) FROM retention.audit;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- the guard holds in session_replication_role = replica too: its triggers are ENABLE ALWAYS
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'retention.audit'::regclass ORDER BY tgname;
SET session_replication_role = replica;
UPDATE retention.audit SET rows = rows + 1 WHERE seq = (SELECT max(seq) FROM retention.audit);
\echo :LAST_ERROR_SQLSTATE
DELETE FROM retention.audit WHERE seq = 2;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE retention.audit;
\echo :LAST_ERROR_SQLSTATE
RESET session_replication_role;
-- a superuser who bypasses the guard is caught by verify_audit
ALTER TABLE retention.audit DISABLE TRIGGER USER;
UPDATE retention.audit SET rows = rows + 1 WHERE seq = (SELECT max(seq) FROM retention.audit);
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only, ENABLE ALWAYS TRIGGER audit_no_truncate;
SELECT ok, first_bad = (SELECT max(seq) FROM retention.audit) AS names_the_entry FROM retention.verify_audit();
ALTER TABLE retention.audit DISABLE TRIGGER USER;
UPDATE retention.audit SET rows = rows - 1 WHERE seq = (SELECT max(seq) FROM retention.audit);
SELECT ok FROM retention.verify_audit();
-- removing an entry in the middle is caught at the entry after the gap
DELETE FROM retention.audit WHERE seq = 2;
SELECT ok, first_bad FROM retention.verify_audit();
-- removing the last entries is caught too: the head remembers how far the chain went
DELETE FROM retention.audit WHERE seq > 1;
SELECT ok, first_bad FROM retention.verify_audit();
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only, ENABLE ALWAYS TRIGGER audit_no_truncate;
DROP ROLE retention_reader;
SELECT retention.drop_policy(:pol);
DROP TABLE notes;
-- later entries do not heal the chain: the gap stays
SELECT ok, first_bad > 2 AS gap_after_entry_1 FROM retention.verify_audit();
