-- Anchors of the audit chain.  A superuser can rewrite the trail and recompute every
-- hash, and verify_audit() then finds a sound chain; what the rewrite cannot change
-- is an anchor (seq, hash) kept outside the database: verify_audit(anchor_seq,
-- anchor_hash) fails unless the chain still passes through it.
\set regress_db :DBNAME
CREATE DATABASE regress_rt_eng_anchor;
\c regress_rt_eng_anchor
SET timezone = 'UTC';
CREATE EXTENSION pg_retention;
SELECT setval('retention.policy_catalog_policy_id_seq', 3320) IS NOT NULL AS ids_pinned;
-- an empty trail has no anchor yet
SELECT seq, hash IS NULL AS no_hash FROM retention.audit_anchor();
CREATE TABLE visits (id int PRIMARY KEY, ip inet, at timestamptz);
SELECT retention.tag('visits', 'ip', 'ip_address');
SELECT retention.add_policy('visits', '30 days', 'at') AS p_visits \gset
SELECT retention.alter_policy(:p_visits, basis => 'log retention');
-- the anchor is the newest entry
SELECT seq, hash = (SELECT a.hash FROM retention.audit a ORDER BY a.seq DESC LIMIT 1) AS newest,
       length(hash) AS bytes
  FROM retention.audit_anchor();
SELECT seq AS anchor_seq, hash AS anchor_hash FROM retention.audit_anchor() \gset
SELECT * FROM retention.verify_audit(:anchor_seq, :'anchor_hash');
-- the trail grows: the old anchor still holds
SELECT retention.alter_policy(:p_visits, keep => '60 days');
SELECT retention.tag('visits', 'at', 'other', 'generalize(day)');
SELECT ok, entries FROM retention.verify_audit(:anchor_seq, :'anchor_hash');
-- the zero-argument call is unchanged, and both NULL means no anchor
SELECT * FROM retention.verify_audit();
SELECT * FROM retention.verify_audit(NULL, NULL);
-- a wrong anchor is named as such
SELECT ok, first_bad FROM retention.verify_audit(:anchor_seq, decode(repeat('00', 32), 'hex'));
SELECT ok, first_bad FROM retention.verify_audit(:anchor_seq - 1, :'anchor_hash');
-- an anchor beyond the end: entries were removed from the end
SELECT ok, first_bad FROM retention.verify_audit(1000, :'anchor_hash');
-- bad anchors are errors
SELECT * FROM retention.verify_audit(NULL, :'anchor_hash');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.verify_audit(:anchor_seq, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.verify_audit(0, :'anchor_hash');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.verify_audit(:anchor_seq, '\x0102');
\echo :LAST_ERROR_SQLSTATE

-- The rewrite the finding describes: a superuser disables the guard, removes the
-- entries from seq 2 on (the tag, the policy and its changes), puts the head back,
-- and lets the extension write a new, well-chained history from there.
ALTER TABLE retention.audit DISABLE TRIGGER USER;
DELETE FROM retention.audit WHERE seq >= 2;
UPDATE retention.audit_head SET seq = 1;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only, ENABLE ALWAYS TRIGGER audit_no_truncate;
SELECT retention.alter_policy(:p_visits, basis => 'rewritten history');
SELECT retention.alter_policy(:p_visits, batch_size => 500);
SELECT retention.alter_policy(:p_visits, keep => '90 days');
SELECT retention.alter_policy(:p_visits, basis => 'rewritten again');
-- the chain alone cannot tell
SELECT * FROM retention.verify_audit();
-- the anchor taken before can
SELECT ok, first_bad = :anchor_seq AS at_the_anchor, entries FROM retention.verify_audit(:anchor_seq, :'anchor_hash');
-- an anchor taken from the rewritten trail holds for the rewritten trail, of course
SELECT seq AS new_seq, hash AS new_hash FROM retention.audit_anchor() \gset
SELECT ok FROM retention.verify_audit(:new_seq, :'new_hash');
-- naive edits are still found without an anchor, and before the anchor is reached
ALTER TABLE retention.audit DISABLE TRIGGER USER;
UPDATE retention.audit SET rows = 7 WHERE seq = 2;
ALTER TABLE retention.audit ENABLE ALWAYS TRIGGER audit_append_only, ENABLE ALWAYS TRIGGER audit_no_truncate;
SELECT ok, first_bad FROM retention.verify_audit();
SELECT ok, first_bad FROM retention.verify_audit(:new_seq, :'new_hash');

-- who may call them: anyone may verify and read the anchor (a hash reveals nothing)
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'retention' AND p.proname IN ('verify_audit', 'audit_anchor')
 ORDER BY 1::text;

\c :regress_db
DROP DATABASE regress_rt_eng_anchor;
