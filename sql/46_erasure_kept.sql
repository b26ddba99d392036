-- An erasure keeps what it builds from the catalogs across calls -- the kind's graph, the
-- foreign keys that keep rows, the tags, the policies, its statements' plans
-- (docs/operations.md#erasures) -- and builds it again after any change: a new table that
-- references the subject, a link, a tag, an anonymize policy, a foreign key that keeps a
-- row, a trigger that copies rows, a legal hold, a renamed schema.  Each erasure below
-- follows the change made just before it, in the same session.  Several erasures in one
-- transaction chain their audit entries, also around a savepoint rolled back.
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA kept;
SELECT 'pg_retention_46_' || pg_backend_pid() || '_' || extract(epoch FROM clock_timestamp())::bigint || '.key'
       AS key_path \gset
SELECT length(retention.create_key(:'key_path')) > 0 AS key_created;
SET retention.key_file = :'key_path';
CREATE TABLE kept.members (id int PRIMARY KEY, email text);
CREATE TABLE kept.visits (visit_id int PRIMARY KEY, member_id int NOT NULL REFERENCES kept.members, note text,
                          at timestamptz NOT NULL DEFAULT '2020-01-01');
INSERT INTO kept.members SELECT g, 'm' || g || '@example.com' FROM generate_series(1, 20) g;
INSERT INTO kept.visits SELECT g, 1 + g % 20, 'visit ' || g FROM generate_series(1, 60) g;
SELECT retention.tag('kept.members', 'email', 'email');
SELECT retention.add_subject('kept_member', 'kept.members', 'id');
-- warm: the graph, the plans
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '1') ORDER BY tbl::text, action;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '2') ORDER BY tbl::text, action;

-- a new table that references the subject joins the graph
CREATE TABLE kept.badges (badge_id int PRIMARY KEY, member_id int NOT NULL REFERENCES kept.members);
INSERT INTO kept.badges SELECT g, 3 + g % 18 FROM generate_series(1, 36) g;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '3') ORDER BY tbl::text, action;
SELECT count(*) AS badges_of_3 FROM kept.badges WHERE member_id = 3;

-- a table linked by a column (no foreign key): retention.link_subject
CREATE TABLE kept.mailings (mailing_id int PRIMARY KEY, recipient int);
INSERT INTO kept.mailings SELECT g, 1 + g % 20 FROM generate_series(1, 40) g;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '4') ORDER BY tbl::text, action;
SELECT count(*) AS mailings_of_4_unlinked FROM kept.mailings WHERE recipient = 4;
SELECT retention.link_subject('kept_member', 'kept.mailings', 'recipient');
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '5') ORDER BY tbl::text, action;
SELECT count(*) AS mailings_of_5 FROM kept.mailings WHERE recipient = 5;

-- an anonymize policy keeps the visits: masked, not deleted; its tag is followed too
SELECT retention.tag('kept.visits', 'note', 'free_text', 'constant(gone)');
SELECT retention.add_policy('kept.visits', '1 year', 'at', 'anonymize') AS keep_visits \gset
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '6') ORDER BY tbl::text, action;
SELECT DISTINCT note FROM kept.visits WHERE member_id = 6;
SELECT retention.drop_policy(:keep_visits);
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '7') ORDER BY tbl::text, action;
SELECT count(*) AS visits_of_7 FROM kept.visits WHERE member_id = 7;

-- a foreign key that keeps a member's row (another member names it as referrer): kept, masked
ALTER TABLE kept.members ADD COLUMN referred_by int;
UPDATE kept.members SET referred_by = 8 WHERE id = 17;
ALTER TABLE kept.members ADD FOREIGN KEY (referred_by) REFERENCES kept.members;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '8') ORDER BY tbl::text, action;
SELECT id, email FROM kept.members WHERE id = 8;

-- a trigger that copies deleted badges with their engraving (a name) out of the graph: the
-- erasure now watches, and fails (a log without personal columns would not be a failure)
ALTER TABLE kept.badges ADD COLUMN engraving text DEFAULT 'for a member';
SELECT retention.tag('kept.badges', 'engraving', 'name');
CREATE TABLE kept.badge_log (badge_id int, member_id int, engraving text);
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '18') ORDER BY tbl::text, action;
CREATE FUNCTION kept.log_badge() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN INSERT INTO kept.badge_log VALUES (OLD.badge_id, OLD.member_id, OLD.engraving); RETURN OLD; END$$;
CREATE TRIGGER badges_log AFTER DELETE ON kept.badges FOR EACH ROW EXECUTE FUNCTION kept.log_badge();
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '9') ORDER BY tbl::text, action;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS badges_of_9_still_there FROM kept.badges WHERE member_id = 9;
DROP TRIGGER badges_log ON kept.badges;

-- a legal hold placed in the transaction of erasures: the next one is pending
BEGIN;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '10') ORDER BY tbl::text, action;
SELECT retention.hold('kept_member', '11', 'dispute') IS NOT NULL AS held;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '11') ORDER BY tbl::text, action;
SELECT count(*) AS member_11_stays FROM kept.members WHERE id = 11;
ROLLBACK;

-- a renamed schema: the statements name the tables anew
ALTER SCHEMA kept RENAME TO kept2;
SELECT tbl, action, rows FROM retention.erase_subject('kept_member', '12') ORDER BY tbl::text, action;
SELECT count(*) AS member_12 FROM kept2.members WHERE id = 12;
ALTER SCHEMA kept2 RENAME TO kept;

SELECT retention.drop_subject('kept_member');
DROP SCHEMA kept CASCADE;
RESET retention.key_file;

-- erasures in one transaction chain their audit entries, a savepoint rolled back between
-- them (in a database of its own: an earlier test leaves a gap in this one's trail)
\set regress_db :DBNAME
CREATE DATABASE regress_rt_erasure_kept;
\c regress_rt_erasure_kept
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
SET retention.key_file = :'key_path';
CREATE TABLE members (id int PRIMARY KEY, email text);
CREATE TABLE visits (visit_id int PRIMARY KEY, member_id int NOT NULL REFERENCES members);
INSERT INTO members SELECT g, 'm' || g || '@example.com' FROM generate_series(1, 20) g;
INSERT INTO visits SELECT g, 1 + g % 20 FROM generate_series(1, 60) g;
SELECT retention.add_subject('chain_member', 'members', 'id');
SELECT max(seq) AS seq_before FROM retention.audit \gset
BEGIN;
SELECT count(*) AS steps FROM retention.erase_subject('chain_member', '13');
SAVEPOINT s;
SELECT count(*) AS steps FROM retention.erase_subject('chain_member', '14');
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS steps FROM retention.erase_subject('chain_member', '15');
SELECT count(*) AS steps FROM retention.erase_subject('chain_member', '16');
COMMIT;
SELECT array_agg(seq - :seq_before ORDER BY seq) AS new_seqs, count(*) AS entries
  FROM retention.audit WHERE seq > :seq_before;
SELECT ok, first_bad FROM retention.verify_audit();
SELECT string_agg(id::text, ',' ORDER BY id) AS left_of_13_to_16 FROM members WHERE id BETWEEN 13 AND 16;
\c :regress_db
DROP DATABASE regress_rt_erasure_kept;
