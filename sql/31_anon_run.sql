-- The anonymize action: exact values, counts, reruns that change nothing,
-- late arrivals, staged lifecycles, triggers, partitions, dropped columns and
-- quoted names, preview/status, and a run that fails (a refused row is isolated).
-- These masks need no key; pseudonyms are tested with a key in tests/t/.
\set regress_db :DBNAME
CREATE DATABASE regress_rt_anon_run;
\c regress_rt_anon_run
CREATE EXTENSION pg_retention;
SET timezone = 'UTC';
SET retention.key_file = '';
\pset null '(null)'

CREATE SCHEMA "Shop";
CREATE TABLE "Shop"."Kunden" (
    id int PRIMARY KEY,
    dropped_early int,
    "E-Mail" text,
    "Phone No" varchar(20),
    ip inet,
    born date,
    card text,
    notes text,
    closed_at timestamptz,
    last_update timestamptz NOT NULL DEFAULT '2000-01-01'
);
ALTER TABLE "Shop"."Kunden" DROP COLUMN dropped_early;
CREATE TABLE "Shop".update_log (id int, at timestamptz);
CREATE FUNCTION "Shop".touch() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN NEW.last_update := now(); RETURN NEW; END$$;
CREATE FUNCTION "Shop".log_update() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN INSERT INTO "Shop".update_log VALUES (NEW.id, now()); RETURN NULL; END$$;
CREATE TRIGGER touch BEFORE UPDATE ON "Shop"."Kunden" FOR EACH ROW EXECUTE FUNCTION "Shop".touch();
CREATE TRIGGER log_update AFTER UPDATE ON "Shop"."Kunden" FOR EACH ROW EXECUTE FUNCTION "Shop".log_update();
-- 12 customers, closed 15 days to 8 years before 2026-07-01, two still open
INSERT INTO "Shop"."Kunden" (id, "E-Mail", "Phone No", ip, born, card, notes, closed_at)
SELECT i, 'kunde' || i || '@example.de', '138' || lpad((i * 7919)::text, 8, '0'),
       CASE WHEN i % 3 = 0 THEN ('2001:db8:' || i || '::' || i)::inet ELSE ('192.0.2.' || (i * 11))::inet END,
       date '1980-02-29' + i * 400, '4111 1111 1111 ' || lpad(i::text, 4, '0'), 'called on ' || i,
       CASE WHEN i <= 10 THEN timestamptz '2026-07-01' - (ARRAY[15, 40, 100, 200, 400, 800, 1000, 1500, 2600, 2950])[i] * interval '1 day' END
  FROM generate_series(1, 12) i;
INSERT INTO "Shop"."Kunden" (id, "E-Mail", closed_at) VALUES (13, NULL, timestamptz '2026-07-01' - interval '3 years');

SELECT retention.tag('"Shop"."Kunden"', 'E-Mail', 'email');
SELECT retention.tag('"Shop"."Kunden"', 'Phone No', 'phone');
SELECT retention.tag('"Shop"."Kunden"', 'ip', 'ip_address');
SELECT retention.tag('"Shop"."Kunden"', 'born', 'birth_date');
SELECT retention.tag('"Shop"."Kunden"', 'card', 'payment_card');
SELECT retention.tag('"Shop"."Kunden"', 'notes', 'free_text');

-- a staged lifecycle: IP after 30 days, birth date after a year, the rest
-- after two years, the row itself after seven
SET client_min_messages = warning;
SELECT retention.add_policy('"Shop"."Kunden"', interval '30 days', 'closed_at', 'anonymize', '{ip}', basis => 'stage 1') AS p_ip \gset
SELECT retention.add_policy('"Shop"."Kunden"', interval '1 year', 'closed_at', 'anonymize', '{born}', basis => 'stage 2') AS p_born \gset
SELECT retention.add_policy('"Shop"."Kunden"', interval '2 years', 'closed_at', 'anonymize',
                            '{E-Mail,Phone No,card,notes}', batch_size => 2, basis => 'stage 3') AS p_rest \gset
SELECT retention.add_policy('"Shop"."Kunden"', interval '7 years', 'closed_at', 'delete', basis => 'stage 4') AS p_delete \gset
RESET client_min_messages;

SELECT policy_id, action, cutoff, rows_due, rows_undated, rows_blocked
  FROM retention.preview(timestamptz '2026-07-01') ORDER BY policy_id;
CALL retention.run('"Shop"."Kunden"', timestamptz '2026-07-01');
SELECT id, "E-Mail", "Phone No", ip, born, card, notes, closed_at::date
  FROM "Shop"."Kunden" ORDER BY id;
-- every UPDATE fired the triggers: once per policy that changed the row
SELECT id, count(*) AS updates, bool_and(at > '2020-01-01') AS touched_now
  FROM "Shop".update_log GROUP BY id ORDER BY id;
SELECT count(*) AS rows_with_new_last_update FROM "Shop"."Kunden" WHERE last_update > '2020-01-01';
SELECT policy_id, action, rows, batches, undated, status, error FROM retention.runs ORDER BY run_id;
SELECT policy_id, action, rows_due FROM retention.preview(timestamptz '2026-07-01') ORDER BY policy_id;

-- a rerun changes nothing and fires no trigger
CREATE TABLE before_rerun AS SELECT * FROM "Shop"."Kunden";
CALL retention.run('"Shop"."Kunden"', timestamptz '2026-07-01');
SELECT count(*) AS changed_rows FROM (
    SELECT * FROM "Shop"."Kunden" EXCEPT SELECT * FROM before_rerun) AS d;
SELECT count(*) AS trigger_fires FROM "Shop".update_log;

-- a late arrival with an old anchor is caught by the next run, and only it
INSERT INTO "Shop"."Kunden" VALUES (20, 'late.comer@example.org', '+86 139 8765 4321', '198.51.100.7',
                                    '1990-06-15', '5500-0000-0000-0004', 'imported', '2023-01-01', '2000-01-01');
SELECT policy_id, rows_due FROM retention.preview(timestamptz '2026-07-01') WHERE action = 'anonymize' ORDER BY policy_id;
CALL retention.run('"Shop"."Kunden"', timestamptz '2026-07-01');
SELECT id, "E-Mail", "Phone No", ip, born, card, notes FROM "Shop"."Kunden" WHERE id = 20;
SELECT count(*) AS other_rows_changed FROM (
    SELECT * FROM "Shop"."Kunden" WHERE id <> 20 EXCEPT SELECT * FROM before_rerun) AS d;
-- status counts, as of now, the rows still to anonymize: the same as plain SQL
SELECT s.policy_id, s.action,
       s.rows_overdue = (SELECT count(*) FROM "Shop"."Kunden"
                          WHERE closed_at < now() - p.keep
                            AND CASE s.policy_id
                                  WHEN :p_ip THEN ip IS DISTINCT FROM retention.generalize(ip, 24)
                                  WHEN :p_born THEN born IS DISTINCT FROM retention.generalize(born, 'year')
                                  WHEN :p_rest THEN "E-Mail" IS DISTINCT FROM retention.mask_email("E-Mail")
                                                 OR "Phone No" IS DISTINCT FROM retention.mask_phone("Phone No")
                                                 OR card IS DISTINCT FROM retention.mask_card(card)
                                                 OR notes IS NOT NULL
                                  ELSE true END) AS overdue_as_plain_sql,
       s.rows_undated
  FROM retention.status s JOIN retention.policies p USING (policy_id) ORDER BY s.policy_id;

-- the advised partial index holds exactly the rows still to anonymize; runs walk it
SELECT retention.index_advice(:p_rest) AS advice;
SELECT retention.index_advice(:p_rest) \gexec
SELECT retention.index_advice(:p_delete) AS delete_advice;
SELECT retention.index_advice(-1);
\echo :LAST_ERROR_SQLSTATE
SELECT indexrelid::regclass AS index, pg_get_expr(indpred, indrelid) IS NOT NULL AS partial
  FROM pg_index WHERE indrelid = '"Shop"."Kunden"'::regclass ORDER BY indexrelid::regclass::text;
SELECT count(*) AS pending_rows FROM "Shop"."Kunden"
 WHERE NOT (("E-Mail" IS NULL OR ("E-Mail"::pg_catalog.text COLLATE pg_catalog."C") OPERATOR(pg_catalog.=) retention.mask_email("E-Mail"::pg_catalog.text))
        AND ("Phone No" IS NULL OR ("Phone No"::pg_catalog.text COLLATE pg_catalog."C") OPERATOR(pg_catalog.=) retention.mask_phone("Phone No"::pg_catalog.text))
        AND (card IS NULL OR (card::pg_catalog.text COLLATE pg_catalog."C") OPERATOR(pg_catalog.=) retention.mask_card(card::pg_catalog.text))
        AND (notes IS NULL));
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT t.ctid FROM ONLY "Shop"."Kunden" t
 WHERE t.closed_at < '2024-07-01'
   AND NOT ((t."E-Mail" IS NULL OR (t."E-Mail"::pg_catalog.text COLLATE pg_catalog."C") OPERATOR(pg_catalog.=) retention.mask_email(t."E-Mail"::pg_catalog.text))
        AND (t."Phone No" IS NULL OR (t."Phone No"::pg_catalog.text COLLATE pg_catalog."C") OPERATOR(pg_catalog.=) retention.mask_phone(t."Phone No"::pg_catalog.text))
        AND (t.card IS NULL OR (t.card::pg_catalog.text COLLATE pg_catalog."C") OPERATOR(pg_catalog.=) retention.mask_card(t.card::pg_catalog.text))
        AND (t.notes IS NULL))
 ORDER BY t.closed_at, t.ctid;
RESET enable_seqscan;

-- inside a transaction block every batch shares the caller's transaction
BEGIN;
INSERT INTO "Shop"."Kunden" (id, "E-Mail", closed_at) VALUES (21, 'rolled.back@example.org', '2020-01-01');
CALL retention.run('"Shop"."Kunden"', timestamptz '2026-07-01');
SELECT id, "E-Mail" FROM "Shop"."Kunden" WHERE id = 21;
ROLLBACK;
SELECT count(*) AS row_21 FROM "Shop"."Kunden" WHERE id = 21;

-- a partitioned table: the tag on the parent applies to every partition,
-- also to one attached after the policy was declared
CREATE TABLE visits (id int, ip inet, ua text, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE visits_2024 PARTITION OF visits FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
SELECT retention.tag('visits', 'ip', 'ip_address');
SELECT retention.tag('visits', 'ua', 'browsing_history', 'constant(redacted)');
SELECT retention.add_policy('visits', interval '90 days', 'at', 'anonymize') AS p_visits \gset
CREATE TABLE visits_2025 (LIKE visits);
ALTER TABLE visits_2025 ADD COLUMN extra int;
ALTER TABLE visits_2025 DROP COLUMN extra;
ALTER TABLE visits ATTACH PARTITION visits_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO visits VALUES (1, '203.0.113.9', 'Mozilla/5.0', '2024-03-01'), (2, '2001:db8:aa:bb::1', NULL, '2024-12-31'),
                          (3, '203.0.113.77', 'curl/8.0', '2025-06-30'), (4, '203.0.113.78', 'Safari', '2025-12-30');
SELECT policy_id, rows_due FROM retention.preview(timestamptz '2026-01-15') WHERE policy_id = :p_visits;
CALL retention.run('visits', timestamptz '2026-01-15');
SELECT tableoid::regclass AS partition, id, ip, ua, at FROM visits ORDER BY id;
CALL retention.run('visits', timestamptz '2026-01-15');

-- a user function as mask: it runs as the table owner; NULL stays NULL
CREATE TABLE notes (id int, body text, at date);
CREATE FUNCTION public.redact_digits(text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$SELECT pg_catalog.regexp_replace($1, '[0-9]', '#', 'g')$$;
SELECT retention.tag('notes', 'body', 'free_text', 'function(public.redact_digits)');
INSERT INTO notes VALUES (1, 'call 555-0100', '2020-01-01'), (2, NULL, '2020-01-01'), (3, 'no digits', '2020-01-01');
SET client_min_messages = warning;
SELECT retention.add_policy('notes', interval '1 year', 'at', 'anonymize') AS p_notes \gset
RESET client_min_messages;
SELECT rows_due FROM retention.preview(timestamptz '2026-07-01') WHERE policy_id = :p_notes;
CALL retention.run('notes', timestamptz '2026-07-01');
SELECT * FROM notes ORDER BY id;

-- a run-time failure: a function mask (which declaration-time checks cannot
-- see through) makes two masked e-mails collide in a unique index; the batch is
-- retried row group by row group, so the refusing row stays whole (no row
-- half-masked) while the others are masked, and the run is recorded as failed
-- with the count and the constraint that refused (no value of the row)
CREATE TABLE members (id int PRIMARY KEY, email text UNIQUE, phone text, left_at date);
CREATE FUNCTION public.initial_only(text) RETURNS text LANGUAGE sql IMMUTABLE
    AS $$SELECT pg_catalog.left($1, 1) OPERATOR(pg_catalog.||) pg_catalog.substr($1, pg_catalog.strpos($1, '@'))$$;
SELECT retention.tag('members', 'email', 'email', 'function(public.initial_only)');
SELECT retention.tag('members', 'phone', 'phone');
SET client_min_messages = warning;
SELECT retention.add_policy('members', interval '1 year', 'left_at', 'anonymize', batch_size => 2) AS p_members \gset
RESET client_min_messages;
INSERT INTO members VALUES (1, 'xavier@example.com', '13800000001', '2020-01-01'),
                           (2, 'yvonne@example.com', '13800000002', '2020-01-02'),
                           (3, 'ab@example.com', '13800000003', '2020-01-03'),
                           (4, 'ac@example.com', '13800000004', '2020-01-04');
CALL retention.run('members', timestamptz '2026-07-01');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM members ORDER BY id;
SELECT rows, batches, refused, status, error FROM retention.runs WHERE policy_id = :p_members;
SELECT count(*) AS half_masked FROM members
 WHERE (email = public.initial_only(email)) <> (phone = retention.mask_phone(phone));

-- a pseudonym mask without a usable key: the run fails with that error and changes nothing
CREATE TABLE contacts (id int, name text, gone date);
INSERT INTO contacts VALUES (1, 'Ada Lovelace', '2020-01-01'), (2, 'Alan Turing', '2020-01-01');
SELECT retention.tag('contacts', 'name', 'name');
SET client_min_messages = error;
SELECT retention.add_policy('contacts', interval '1 year', 'gone', 'anonymize') AS p_contacts \gset
RESET client_min_messages;
CALL retention.run('contacts', timestamptz '2026-07-01');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM contacts ORDER BY id;
SELECT rows, status, error FROM retention.runs WHERE policy_id = :p_contacts;

-- the audit trail has the runs and still verifies
SELECT event, count(*) FROM retention.audit GROUP BY event ORDER BY event;
SELECT ok FROM retention.verify_audit();

\c :regress_db
DROP DATABASE regress_rt_anon_run;
