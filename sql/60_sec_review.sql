-- Findings of the adversarial review, tested so that they stay fixed (the others
-- are in 05_errors: mixed-sign and huge periods, system catalogs, ALTER TYPE
-- ... CASCADE, DROP FUNCTION of a mask, run(0), a future as_of without a table;
-- 60_sec_faults: poison rows, one failing policy among several; 60_sec_privileges:
-- which runs a role sees; tests/specs/sec_table_swap: tables renamed, swapped or
-- detached during a run).
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 6300) IS NOT NULL AS ids_pinned;
CREATE ROLE sec_rev_owner;
CREATE SCHEMA sec_rev AUTHORIZATION sec_rev_owner;

-- 1. Settings changed by a table owner's code (a trigger, a mask, a row-security
-- function) end with the statement that ran it: none reaches the caller's session.
SET ROLE sec_rev_owner;
CREATE FUNCTION sec_rev.meddle() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.set_config('work_mem', '77kB', false);
    PERFORM pg_catalog.set_config('search_path', 'sec_rev_meddled', false);
    PERFORM pg_catalog.set_config('retention.batch_size', '7', false);
    RETURN true;
END $$;
CREATE FUNCTION sec_rev.meddle_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM sec_rev.meddle(); RETURN OLD; END $$;
CREATE FUNCTION sec_rev.meddle_mask(text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN PERFORM sec_rev.meddle(); RETURN 'masked'; END $$;
CREATE TABLE sec_rev.people (id int PRIMARY KEY, note text, at timestamptz NOT NULL);
INSERT INTO sec_rev.people SELECT g, 'note ' || g, timestamptz '2022-01-01' + g * interval '1 day'
  FROM generate_series(1, 40) g;
CREATE TRIGGER meddle BEFORE DELETE ON sec_rev.people FOR EACH ROW EXECUTE FUNCTION sec_rev.meddle_trigger();
ALTER TABLE sec_rev.people ENABLE ROW LEVEL SECURITY;
ALTER TABLE sec_rev.people FORCE ROW LEVEL SECURITY;
CREATE POLICY everyone ON sec_rev.people USING (sec_rev.meddle());
SELECT retention.tag('sec_rev.people', 'note', 'free_text', 'function(sec_rev.meddle_mask)');
SELECT retention.add_policy('sec_rev.people', '30 days', 'at', 'anonymize') AS anon \gset
SELECT retention.add_policy('sec_rev.people', '45 days', 'at') AS del \gset
SELECT retention.add_subject('sec_rev_person', 'sec_rev.people', 'id');
RESET ROLE;
SET work_mem = '4MB';
SET search_path = public;
SET retention.batch_size = 1000;
SELECT policy_id = :anon AS anonymize, rows_due FROM retention.preview('2022-03-01') ORDER BY policy_id;
SELECT current_setting('work_mem') AS work_mem, current_setting('search_path') AS search_path,
       current_setting('retention.batch_size') AS batch_size;
SELECT count(*) AS status_rows FROM retention.status WHERE tbl = 'sec_rev.people'::regclass;
SELECT current_setting('work_mem') AS work_mem, current_setting('search_path') AS search_path;
CALL retention.run('sec_rev.people', '2022-03-01');
SELECT current_setting('work_mem') AS work_mem, current_setting('search_path') AS search_path,
       current_setting('retention.batch_size') AS batch_size;
SELECT count(*) AS people, count(*) FILTER (WHERE note = 'masked') AS masked FROM sec_rev.people;
SELECT jsonb_array_length(retention.subject_data('sec_rev_person', '35')->'tables') AS tables;
SELECT current_setting('work_mem') AS work_mem, current_setting('search_path') AS search_path;
SELECT tbl::text, action, rows FROM retention.erase_subject('sec_rev_person', '35');
SELECT current_setting('work_mem') AS work_mem, current_setting('search_path') AS search_path;
SELECT retention.drop_policy(:anon);
SELECT tbl::text, action, rows FROM retention.erase_subject('sec_rev_person', '36');
SELECT current_setting('work_mem') AS work_mem, current_setting('search_path') AS search_path,
       current_setting('retention.batch_size') AS batch_size;
RESET work_mem;
RESET search_path;
RESET retention.batch_size;
SELECT retention.drop_policy(:del);
SELECT retention.drop_subject('sec_rev_person');

-- 2. Memory does not grow with the number of batches: the backend's memory,
-- measured inside every batch, is the same after 300 batches as after 50.
CREATE TABLE sec_rev_mem (batch serial, bytes bigint);
CREATE TABLE sec_rev.many (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO sec_rev.many SELECT g, timestamptz '2022-01-01' FROM generate_series(1, 1500) g;
CREATE FUNCTION sec_rev_measure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.sec_rev_mem (bytes) SELECT sum(total_bytes) FROM pg_catalog.pg_backend_memory_contexts;
    RETURN NULL;
END $$;
CREATE TRIGGER measure AFTER DELETE ON sec_rev.many FOR EACH STATEMENT EXECUTE FUNCTION sec_rev_measure();
SELECT retention.add_policy('sec_rev.many', '30 days', 'at', batch_size => 5) AS many \gset
CALL retention.run('sec_rev.many', '2022-06-01');
SELECT count(*) AS batches_measured,
       (SELECT bytes FROM sec_rev_mem WHERE batch = 300) - (SELECT bytes FROM sec_rev_mem WHERE batch = 50) < 65536
         AS no_growth_between_batch_50_and_300
  FROM sec_rev_mem;
SELECT retention.drop_policy(:many);
DROP TABLE sec_rev_mem;
DROP FUNCTION sec_rev_measure() CASCADE;

-- 3. A run record and the audit trail keep an error's message and SQLSTATE, never a
-- DETAIL that quotes a row ("Failing row contains ...", "Key (email)=(...)").
SET ROLE sec_rev_owner;
CREATE TABLE sec_rev.accounts (id int PRIMARY KEY, email text, vip boolean NOT NULL DEFAULT false,
                               closed timestamptz NOT NULL,
                               CONSTRAINT vip_keeps_email CHECK (NOT vip OR email <> 'gone'));
INSERT INTO sec_rev.accounts VALUES (1, 'secret.person@example.com', true, '2022-01-01'),
                                    (2, 'other.person@example.com', false, '2022-01-01');
SELECT retention.tag('sec_rev.accounts', 'email', 'email', 'constant(gone)');
SELECT retention.add_policy('sec_rev.accounts', '30 days', 'closed', 'anonymize') AS acc \gset
RESET ROLE;
CALL retention.run('sec_rev.accounts', '2022-06-01');
\echo :LAST_ERROR_SQLSTATE
SELECT status, error, error LIKE '%secret.person%' OR error LIKE '%Failing row%' AS quotes_a_row
  FROM retention.runs WHERE policy_id = :acc;
SELECT details::text LIKE '%secret.person%' OR details::text LIKE '%Failing row%' AS audit_quotes_a_row
  FROM retention.audit WHERE event = 'run' AND (details->>'policy_id')::bigint = :acc;
SELECT email FROM sec_rev.accounts ORDER BY id;
SELECT retention.drop_policy(:acc);

-- 4. The tables pg_dump keeps (the extension's configuration) do not reference each
-- other: pg_restore -j loads their data in any order, and a foreign key among them
-- made about every other parallel restore lose the subject links (found by
-- tests/t/602_dump_restore_full.pl).  drop_subject removes a kind's links itself.
SELECT c.conrelid::regclass AS referencing, c.confrelid::regclass AS referenced
  FROM pg_constraint c, pg_extension e
 WHERE e.extname = 'pg_retention' AND c.contype = 'f'
   AND c.conrelid = ANY (e.extconfig) AND c.confrelid = ANY (e.extconfig);
SET ROLE sec_rev_owner;
CREATE TABLE sec_rev.customers (id int PRIMARY KEY);
CREATE TABLE sec_rev.weblog (customer_ref int, at timestamptz);
SELECT retention.add_subject('sec_rev_customer', 'sec_rev.customers', 'id');
SELECT retention.link_subject('sec_rev_customer', 'sec_rev.weblog', 'customer_ref');
SELECT retention.drop_subject('sec_rev_customer');
RESET ROLE;
SELECT count(*) AS links_left FROM retention.subject_link_catalog WHERE kind = 'sec_rev_customer';

DROP SCHEMA sec_rev CASCADE;
DROP ROLE sec_rev_owner;
