-- An erasure is done only when nothing of the subject remains but rows kept by a policy
-- (masked) or held: what a soft-delete trigger, a DO INSTEAD rule or row-level security
-- keeps fails the erasure (RTE01), rolled back, with no ledger or audit entry; rows a
-- trigger copies into a history table are erased in a further pass when the table is part
-- of the graph, and fail the erasure (RTE02) when it is not; an access request never
-- returns a document row-level security made partial (RTA01).
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA truth;
SELECT 'pg_retention_44_' || pg_backend_pid() || '_' || extract(epoch FROM clock_timestamp())::bigint || '.key'
       AS key_path \gset
SELECT length(retention.create_key(:'key_path')) > 0 AS key_created;
SET retention.key_file = :'key_path';
-- entries earlier tests left waiting (for kinds not declared here) are not this test's: the
-- replays below list only its own
UPDATE retention.erasure_ledger SET applied_here = now() WHERE applied_here IS NULL AND status = 'done';
CREATE TABLE truth.accounts (id int PRIMARY KEY, email text, deleted_at timestamptz);
CREATE TABLE truth.orders (order_id int PRIMARY KEY, account_id int NOT NULL REFERENCES truth.accounts,
                           ship_to text, ordered_at timestamptz NOT NULL DEFAULT '2026-01-01');
INSERT INTO truth.accounts VALUES (1, 'a@x.org', NULL), (2, 'b@x.org', NULL), (3, 'c@x.org', NULL),
                                  (4, 'd@x.org', NULL), (5, 'e@x.org', NULL);
INSERT INTO truth.orders VALUES (10, 1, 'Street 1'), (20, 2, 'Street 2'), (30, 3, 'Street 3');
SELECT retention.tag('truth.accounts', 'email', 'email');
SELECT retention.tag('truth.orders', 'ship_to', 'address', 'constant(gone)');
SELECT retention.add_subject('truth_account', 'truth.accounts', 'id');
SELECT count(*) AS audit_before FROM retention.audit \gset

-- 1. a soft delete: a BEFORE DELETE trigger that marks the row and returns NULL
CREATE FUNCTION truth.soft_delete() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN UPDATE truth.accounts SET deleted_at = now() WHERE id = OLD.id; RETURN NULL; END$$;
CREATE TRIGGER accounts_soft_delete BEFORE DELETE ON truth.accounts
  FOR EACH ROW EXECUTE FUNCTION truth.soft_delete();
SELECT * FROM retention.erase_subject('truth_account', '1');
\echo :LAST_ERROR_SQLSTATE
-- rolled back: the order the erasure had deleted is back, the e-mail is there, no ledger
-- entry, no audit entry
SELECT a.email, a.deleted_at IS NULL AS not_marked, (SELECT count(*) FROM truth.orders WHERE account_id = 1) AS orders
  FROM truth.accounts a WHERE a.id = 1;
SELECT count(*) AS ledger FROM retention.erasures WHERE kind = 'truth_account';
SELECT count(*) - :audit_before AS new_audit_entries FROM retention.audit;
-- an anonymize policy keeps the table's rows: the erasure masks them (no DELETE) and is done
SELECT retention.add_policy('truth.accounts', '10 years', 'deleted_at', 'anonymize') AS keep_accounts \gset
SELECT tbl, action, rows FROM retention.erase_subject('truth_account', '1') ORDER BY tbl::text, action;
SELECT id, email FROM truth.accounts WHERE id = 1;
SELECT status, rows FROM retention.erasures WHERE kind = 'truth_account';
SELECT retention.drop_policy(:keep_accounts);
DROP TRIGGER accounts_soft_delete ON truth.accounts;

-- 2. a BEFORE UPDATE trigger that refuses the masking of a row kept by a policy
CREATE FUNCTION truth.no_update() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER orders_frozen BEFORE UPDATE ON truth.orders FOR EACH ROW EXECUTE FUNCTION truth.no_update();
SELECT retention.add_policy('truth.orders', '10 years', 'ordered_at', 'anonymize') AS keep_orders \gset
SELECT * FROM retention.erase_subject('truth_account', '2');
\echo :LAST_ERROR_SQLSTATE
SELECT ship_to FROM truth.orders WHERE order_id = 20;
DROP TRIGGER orders_frozen ON truth.orders;
SELECT retention.drop_policy(:keep_orders);

-- 3. a DO INSTEAD rule that turns the DELETE into an UPDATE
CREATE RULE accounts_keep AS ON DELETE TO truth.accounts
  DO INSTEAD UPDATE truth.accounts SET deleted_at = now() WHERE id = OLD.id;
SELECT * FROM retention.erase_subject('truth_account', '2');
\echo :LAST_ERROR_SQLSTATE
SELECT email FROM truth.accounts WHERE id = 2;
DROP RULE accounts_keep ON truth.accounts;

-- 4. row-level security forced on the owner (not a superuser, whom it never binds), hiding
--    marked rows: the owner neither sees nor deletes them, the count with full visibility
--    finds them
CREATE ROLE truth_owner;
GRANT USAGE ON SCHEMA truth TO truth_owner;
GRANT SELECT ON truth.orders TO truth_owner;
ALTER TABLE truth.accounts OWNER TO truth_owner;
ALTER TABLE truth.accounts ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY live_only ON truth.accounts USING (deleted_at IS NULL);
UPDATE truth.accounts SET deleted_at = '2026-01-01' WHERE id = 3;
SELECT * FROM retention.erase_subject('truth_account', '3');
\echo :LAST_ERROR_SQLSTATE
-- the access request would miss the row: it fails instead of answering with less
SELECT retention.subject_data('truth_account', '3');
\echo :LAST_ERROR_SQLSTATE
-- a subject the policy hides nothing of is erased and read as usual
SELECT (t->>'count')::int AS rows FROM jsonb_array_elements(retention.subject_data('truth_account', '4')->'tables') t;
SELECT tbl, action, rows FROM retention.erase_subject('truth_account', '4') ORDER BY tbl::text, action;
ALTER TABLE truth.accounts NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY;
DROP POLICY live_only ON truth.accounts;
ALTER TABLE truth.accounts OWNER TO CURRENT_USER;
REVOKE ALL ON truth.orders FROM truth_owner;
REVOKE ALL ON SCHEMA truth FROM truth_owner;
DROP ROLE truth_owner;
SELECT tbl, action, rows FROM retention.erase_subject('truth_account', '3') ORDER BY tbl::text, action;
SELECT id FROM truth.accounts ORDER BY id;
SELECT status, rows FROM retention.erasures WHERE kind = 'truth_account' ORDER BY requested_at, rows;

-- 5. a history trigger copies every deleted account into a history table
CREATE TABLE truth.accounts_history (id int, email text, deleted_at timestamptz);
CREATE FUNCTION truth.keep_history() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN INSERT INTO truth.accounts_history VALUES (OLD.id, OLD.email, now()); RETURN OLD; END$$;
CREATE TRIGGER accounts_history AFTER DELETE ON truth.accounts
  FOR EACH ROW EXECUTE FUNCTION truth.keep_history();
INSERT INTO truth.accounts VALUES (6, 'f@x.org', NULL), (7, 'g@x.org', NULL);
-- outside the graph: the copy would keep the e-mail, so the erasure fails
SELECT * FROM retention.erase_subject('truth_account', '6');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM truth.accounts WHERE id = 6) AS account, (SELECT count(*) FROM truth.accounts_history) AS copies;
-- without the transaction's insert counts (track_counts off) the erasure cannot tell where
-- the trigger copies: it refuses
SET track_counts = off;
SELECT * FROM retention.erase_subject('truth_account', '6');
\echo :LAST_ERROR_SQLSTATE
RESET track_counts;
-- linked to the subject, the history table is part of the graph: a second pass erases the copy
SELECT retention.link_subject('truth_account', 'truth.accounts_history', 'id');
SELECT tbl, action, rows FROM retention.erase_subject('truth_account', '6') ORDER BY tbl::text, action;
SELECT (SELECT count(*) FROM truth.accounts WHERE id = 6) AS account, (SELECT count(*) FROM truth.accounts_history) AS copies;
-- another person's history is untouched
DELETE FROM truth.accounts WHERE id = 7;
SELECT id, email FROM truth.accounts_history;
DROP TRIGGER accounts_history ON truth.accounts;

-- 6. a trigger that puts a deleted row back: passes never settle
CREATE FUNCTION truth.put_back() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN INSERT INTO truth.accounts VALUES (OLD.id, OLD.email, OLD.deleted_at); RETURN OLD; END$$;
CREATE TRIGGER accounts_put_back AFTER DELETE ON truth.accounts
  FOR EACH ROW EXECUTE FUNCTION truth.put_back();
SELECT * FROM retention.erase_subject('truth_account', '5');
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER accounts_put_back ON truth.accounts;

-- 7. a pending erasure whose holds end while a soft-delete trigger keeps the row: it stays
--    pending, with a WARNING naming the cause; once the trigger is gone, it is done
CREATE TRIGGER accounts_soft_delete BEFORE DELETE ON truth.accounts
  FOR EACH ROW EXECUTE FUNCTION truth.soft_delete();
SELECT retention.hold('truth_account', '5', 'inquiry 5') AS hold5 \gset
SELECT DISTINCT action FROM retention.erase_subject('truth_account', '5');
-- (ids pinned, for the WARNINGs that name them)
UPDATE retention.erasure_ledger SET erasure_id = '00000000-0000-0000-0000-000000000445'
 WHERE status = 'pending' AND kind = 'truth_account';
SELECT retention.release(:hold5);
SELECT status, completed_at IS NULL AS not_completed FROM retention.erasures
 WHERE status = 'pending' AND kind = 'truth_account';
SELECT email FROM truth.accounts WHERE id = 5;
-- a replay of an entry whose subject a trigger keeps: "incomplete", the entry stays unapplied
INSERT INTO truth.accounts VALUES (6, 'f@x.org', NULL);
UPDATE retention.erasure_ledger SET applied_here = NULL, erasure_id = '00000000-0000-0000-0000-000000000446'
 WHERE erasure_id = (SELECT erasure_id FROM retention.erasures WHERE status = 'done' AND kind = 'truth_account'
                     ORDER BY requested_at DESC LIMIT 1);
SELECT erasure_id, kind, result, rows FROM retention.replay_erasures() ORDER BY erasure_id;
SELECT erasure_id, status, applied_here IS NULL AS unapplied FROM retention.erasures
 WHERE kind = 'truth_account' AND (applied_here IS NULL OR status = 'pending') ORDER BY erasure_id;
DROP TRIGGER accounts_soft_delete ON truth.accounts;
SELECT kind, result, rows FROM retention.replay_erasures() ORDER BY result;
SELECT count(*) AS waiting FROM retention.erasures
 WHERE kind = 'truth_account' AND (applied_here IS NULL OR status = 'pending');
SELECT id FROM truth.accounts ORDER BY id;

-- 8. a referenced row (the address) a trigger keeps although nothing references it any more
CREATE TABLE truth.addresses (address_id int PRIMARY KEY, street text);
CREATE TABLE truth.people (person_id int PRIMARY KEY, name text, address_id int REFERENCES truth.addresses);
INSERT INTO truth.addresses VALUES (1, 'Main Street 1'), (2, 'Main Street 2');
INSERT INTO truth.people VALUES (1, 'Ann', 1), (2, 'Ben', 2);
SELECT retention.tag('truth.addresses', 'street', 'address');
SELECT retention.tag('truth.people', 'name', 'name');
SELECT retention.add_subject('truth_person', 'truth.people', 'person_id');
CREATE FUNCTION truth.keep_address() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
CREATE TRIGGER addresses_kept BEFORE DELETE ON truth.addresses FOR EACH ROW EXECUTE FUNCTION truth.keep_address();
SELECT * FROM retention.erase_subject('truth_person', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS ann FROM truth.people WHERE person_id = 1;

-- 9. where row-level security applies and the subject's key compares with an operator that is
--    not built in (citext), hidden rows are never counted as a superuser: the erasure and the
--    access request cannot tell, and say so
CREATE EXTENSION IF NOT EXISTS citext SCHEMA truth;
CREATE ROLE truth_owner;
CREATE TABLE truth.members (email truth.citext PRIMARY KEY, name text);
INSERT INTO truth.members VALUES ('Ann@x.org', 'Ann');
ALTER TABLE truth.members OWNER TO truth_owner;
GRANT USAGE ON SCHEMA truth TO truth_owner;
ALTER TABLE truth.members ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY everything ON truth.members USING (true);
SELECT retention.add_subject('truth_member', 'truth.members', 'email');
SELECT * FROM retention.erase_subject('truth_member', 'ann@x.org');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.subject_data('truth_member', 'ann@x.org');
\echo :LAST_ERROR_SQLSTATE
-- not forced on the owner, it hides nothing from the owner: both go through
ALTER TABLE truth.members NO FORCE ROW LEVEL SECURITY;
SELECT (retention.subject_data('truth_member', 'ann@x.org')->'tables'->0->>'count')::int AS rows;
SELECT tbl, action, rows FROM retention.erase_subject('truth_member', 'ann@x.org');
SELECT retention.drop_subject('truth_member');
DROP TABLE truth.members;

-- 10. a linked table whose forced row security lets its owner see the subject's rows but
--     not delete them: the erasure changes nothing and names the policy
CREATE TABLE truth.person (id int PRIMARY KEY, name text);
CREATE TABLE truth.note (id int PRIMARY KEY, person_id int REFERENCES truth.person, body text);
INSERT INTO truth.person VALUES (1, 'a'), (2, 'b');
INSERT INTO truth.note VALUES (1, 1, 'x'), (2, 1, 'y'), (3, 2, 'z');
ALTER TABLE truth.person OWNER TO truth_owner;
ALTER TABLE truth.note OWNER TO truth_owner;
SELECT retention.add_subject('truth_note_person', 'truth.person', 'id');
ALTER TABLE truth.note ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY see ON truth.note FOR SELECT USING (true);
SELECT * FROM retention.erase_subject('truth_note_person', '1');
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM truth.note) AS notes, (SELECT count(*) FROM truth.person) AS people;
SELECT retention.drop_subject('truth_note_person');
DROP TABLE truth.note, truth.person;
REVOKE ALL ON SCHEMA truth FROM truth_owner;
DROP ROLE truth_owner;

RESET retention.key_file;
SELECT retention.drop_subject(kind) FROM retention.subjects WHERE kind IN ('truth_account', 'truth_person');
DROP SCHEMA truth CASCADE;
