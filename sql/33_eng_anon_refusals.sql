-- Rows that refuse to be masked or deleted (a pseudonym equal to a value masked
-- before, a CHECK, a trigger, a data error) are isolated: the others are masked or
-- deleted, the refused ones counted, the run recorded as failed with the first
-- refusal named by its constraint and SQLSTATE, never by the row's values, and
-- the next run handles the refused rows one by one instead of failing whole.
\set regress_db :DBNAME
CREATE DATABASE regress_rt_eng_refusals;
\c regress_rt_eng_refusals
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
SELECT setval('retention.policy_catalog_policy_id_seq', 3300) IS NOT NULL AS ids_pinned;
-- a key file of this test, in the data directory, made once
DO $$BEGIN
  IF pg_stat_file('pg_retention_33_eng.key', true) IS NULL THEN
    PERFORM retention.create_key('pg_retention_33_eng.key');
  END IF;
END$$;
SET retention.key_file = 'pg_retention_33_eng.key';
RESET client_min_messages;
-- the tables belong to an ordinary role, which runs its own policies
CREATE ROLE rt_eng_app;
GRANT CREATE ON SCHEMA public TO rt_eng_app;
SET ROLE rt_eng_app;

-- The finding: one returning customer stalled the policy forever.  Her first account
-- was pseudonymized; her new one would get the same pseudonym, which the unique
-- index refuses, and the batch of 1001 rows failed on every run.
CREATE TABLE accounts(id serial PRIMARY KEY, email text UNIQUE NOT NULL, closed_at timestamptz);
SELECT retention.tag('accounts', 'email', 'email', 'pseudonym');
SET client_min_messages = warning;
SELECT retention.add_policy('accounts', '30 days', 'closed_at', 'anonymize') AS p_accounts \gset
RESET client_min_messages;
INSERT INTO accounts(email, closed_at) VALUES ('alice@example.com', now() - interval '60 days');
CALL retention.run('accounts');
INSERT INTO accounts(email, closed_at) VALUES ('alice@example.com', now() - interval '40 days');
INSERT INTO accounts(email, closed_at)
SELECT 'u' || g || '@x', now() - interval '40 days' FROM generate_series(1, 1000) g;
CALL retention.run('accounts');
\echo :LAST_ERROR_SQLSTATE
-- every account is masked but the returning one
SELECT count(*) FILTER (WHERE retention.is_pseudonym(email)) AS masked,
       count(*) FILTER (WHERE NOT retention.is_pseudonym(email)) AS left_unmasked,
       string_agg(email, ',') FILTER (WHERE NOT retention.is_pseudonym(email)) AS which
  FROM accounts;
SELECT run_id > 0 AS recorded, rows, refused, status, error FROM retention.runs
 WHERE policy_id = :p_accounts ORDER BY run_id;
-- the next run tries the refused row again, alone: nothing else is rolled back
CALL retention.run('accounts');
SELECT rows, batches, refused, status FROM retention.runs
 WHERE policy_id = :p_accounts ORDER BY run_id DESC LIMIT 1;
-- once the old account is gone, the new one is masked and the policy succeeds
RESET ROLE;
DELETE FROM accounts WHERE id = 1;
SET ROLE rt_eng_app;
CALL retention.run('accounts');
SELECT rows, refused, status, error FROM retention.runs
 WHERE policy_id = :p_accounts ORDER BY run_id DESC LIMIT 1;
SELECT count(*) FILTER (WHERE NOT retention.is_pseudonym(email)) AS left_unmasked FROM accounts;

-- Small batches, refusals in several of them: a CHECK that the mask breaks for some
-- rows, and a trigger that raises with the row's value in its message.
CREATE TABLE members(id int PRIMARY KEY, nick text CHECK (nick <> '***'), note text, left_at date);
CREATE FUNCTION public.keep_vip() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN
  IF OLD.note LIKE 'vip%' THEN RAISE EXCEPTION 'vip member % (%) stays', OLD.id, OLD.note; END IF;
  RETURN NEW;
END$$;
CREATE TRIGGER keep_vip BEFORE UPDATE ON members FOR EACH ROW EXECUTE FUNCTION public.keep_vip();
SELECT retention.tag('members', 'nick', 'name', 'partial(0,0)');
SELECT retention.tag('members', 'note', 'free_text', 'constant(gone)');
SET client_min_messages = warning;
SELECT retention.add_policy('members', '1 year', 'left_at', 'anonymize', batch_size => 7) AS p_members \gset
RESET client_min_messages;
-- 40 expired members: 5 three-letter nicks (masked to ***: the CHECK refuses),
-- 3 VIPs (the trigger refuses), 32 that can be masked; 5 members still active
INSERT INTO members
SELECT i, CASE WHEN i % 8 = 0 THEN 'abc' ELSE 'nick' || i END,
       CASE WHEN i IN (3, 17, 29) THEN 'vip: ' || i || '@vip.example' ELSE 'note ' || i END,
       CASE WHEN i <= 40 THEN date '2000-01-01' + i ELSE current_date END
  FROM generate_series(1, 45) i;
CALL retention.run('members');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, batches > 1 AS several_batches, refused, status,
       error LIKE '8 expired rows could not be anonymized and were left; the first was refused by %' AS error_form,
       error LIKE '%vip%' OR error LIKE '%abc%' OR error LIKE '%***%' AS error_quotes_data
  FROM retention.runs WHERE policy_id = :p_members;
SELECT count(*) FILTER (WHERE note = 'gone') AS masked,
       count(*) FILTER (WHERE note <> 'gone' AND left_at < current_date) AS refused_left_whole,
       count(*) FILTER (WHERE note <> 'gone' AND left_at = current_date) AS active_untouched,
       count(*) FILTER (WHERE (note = 'gone') <> (nick ~ '^\*+$')) AS half_masked
  FROM members;
-- the first refusal names the constraint (CHECK) or says a trigger raised (no message kept)
SELECT error ~ 'refused by (constraint members_nick_check of table public\.members \(SQLSTATE 23514\)|an exception a trigger or function raised \(SQLSTATE P0001\))' AS names_cause
  FROM retention.runs WHERE policy_id = :p_members;

-- A data error quoting the value (a trigger casts the old code): kept out of the record too
CREATE TABLE codes(id int PRIMARY KEY, code text, used date);
CREATE FUNCTION public.check_code() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN PERFORM pg_catalog.substr(OLD.code, 3)::int; RETURN NEW; END$$;
CREATE TRIGGER check_code BEFORE UPDATE ON codes FOR EACH ROW EXECUTE FUNCTION public.check_code();
SELECT retention.tag('codes', 'code', 'other', 'constant(XX000)');
SET client_min_messages = warning;
SELECT retention.add_policy('codes', '1 year', 'used', 'anonymize') AS p_codes \gset
RESET client_min_messages;
INSERT INTO codes VALUES (1, 'AB123', '2001-01-01'), (2, 'CDsecret-value', '2001-01-01'), (3, 'EF456', '2001-01-01');
CALL retention.run('codes');
\echo :LAST_ERROR_SQLSTATE
SELECT id, code FROM codes ORDER BY id;
SELECT rows, refused, status, error FROM retention.runs WHERE policy_id = :p_codes;

-- The delete path records refusals the same way: a trigger that quotes the row
CREATE TABLE events(id int PRIMARY KEY, who text, at date);
CREATE FUNCTION public.keep_audited() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN
  IF OLD.who LIKE 'auditor%' THEN RAISE EXCEPTION 'event of % must stay', OLD.who; END IF;
  RETURN OLD;
END$$;
CREATE TRIGGER keep_audited BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION public.keep_audited();
SELECT retention.add_policy('events', '1 year', 'at', batch_size => 5) AS p_events \gset
INSERT INTO events SELECT i, CASE WHEN i % 10 = 0 THEN 'auditor' || i ELSE 'user' || i END, date '2001-01-01'
  FROM generate_series(1, 30) i;
CALL retention.run('events');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, refused, status, error FROM retention.runs WHERE policy_id = :p_events;
SELECT string_agg(who, ',' ORDER BY id) AS left FROM events;

-- no value of a refused row reached the audit trail
RESET ROLE;
SELECT count(*) AS audit_entries_quoting_rows FROM retention.audit
 WHERE details::text ~ '(alice|vip|abc|\*\*\*|secret|auditor)';
SELECT details->>'refused' AS refused, details->>'status' AS status FROM retention.audit
 WHERE event = 'run' AND (details->>'policy_id')::bigint = :p_members;
SELECT ok FROM retention.verify_audit();

\c :regress_db
DROP DATABASE regress_rt_eng_refusals;
DROP ROLE rt_eng_app;
