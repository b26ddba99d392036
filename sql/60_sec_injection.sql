-- Injection: names of schemas, tables, columns and roles, and the texts of bases,
-- reasons, masks, kinds and ids, written to break out of SQL (quotes, semicolons,
-- spaces, $$, colons): nothing they say is executed, and every one comes back as written.
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 6100) IS NOT NULL AS ids_pinned;
-- what a successful injection would destroy or create
CREATE TABLE sec_victim (x int);
INSERT INTO sec_victim VALUES (1);
CREATE ROLE "sec own'er; DROP TABLE sec_victim; --";
CREATE SCHEMA "Sch'ema; DROP TABLE sec_victim; --" AUTHORIZATION "sec own'er; DROP TABLE sec_victim; --";
SET ROLE "sec own'er; DROP TABLE sec_victim; --";
CREATE TABLE "Sch'ema; DROP TABLE sec_victim; --"."Tab $$ ""le""; DELETE FROM sec_victim; --" (
    "id'; DROP TABLE sec_victim; --" int PRIMARY KEY,
    "e mail $$; DROP TABLE sec_victim; $$" text,
    "note: a; b" text,
    "when ""then""; --" timestamptz NOT NULL);
\set hostile '"Sch''ema; DROP TABLE sec_victim; --"."Tab $$ ""le""; DELETE FROM sec_victim; --"'
SELECT :'hostile'::regclass AS hostile_table;
INSERT INTO :hostile SELECT g, 'user' || g || '@example.com', 'note ' || g,
       timestamptz '2022-01-01' + g * interval '1 day' FROM generate_series(1, 6) g;
-- tags: hostile column names, and mask texts that try to close the constant early
SELECT retention.tag(:'hostile', 'e mail $$; DROP TABLE sec_victim; $$', 'email');
SELECT retention.tag(:'hostile', 'note: a; b', 'free_text', 'constant(x''); DROP TABLE sec_victim; --)');
SELECT schema_name, table_name, column_name, category, mask FROM retention.personal_columns
 WHERE schema_name LIKE 'Sch''ema%' ORDER BY column_name;
-- the same through SECURITY LABEL: the label splits at its first colon only
SECURITY LABEL FOR retention ON COLUMN :hostile."note: a; b" IS 'free_text:constant($$a:b$$; DROP TABLE sec_victim)';
SELECT mask FROM retention.personal_columns WHERE column_name = 'note: a; b';
-- malformed masks are refused, whatever they carry
SELECT retention.tag(:'hostile', 'note: a; b', 'free_text', 'function(public.f); DROP TABLE sec_victim; --)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag(:'hostile', 'note: a; b', 'free_text', 'null; DROP TABLE sec_victim');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag(:'hostile', 'note: a; b', 'email''; DROP TABLE sec_victim; --');
\echo :LAST_ERROR_SQLSTATE
SECURITY LABEL FOR retention ON COLUMN :hostile."note: a; b" IS 'free_text:partial(1,1)); DROP TABLE sec_victim; --';
\echo :LAST_ERROR_SQLSTATE
-- policies: a hostile anchor column and basis; a time zone that tries to escape
SELECT retention.add_policy(:'hostile', '30 days', 'when "then"; --',
       basis => $b$'); DROP TABLE sec_victim; -- $$ "x" ;$b$) AS del_pol \gset
SELECT retention.add_policy(:'hostile', '10 days', 'when "then"; --', 'anonymize',
       basis => 'anonymize; DELETE FROM sec_victim') AS anon_pol \gset
SELECT retention.add_policy(:'hostile', '20 days', 'when "then"; --', time_zone => 'UTC''; DROP TABLE sec_victim; --');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy(:'hostile', '20 days', 'when "then"; --', action => 'delete''; DROP TABLE sec_victim; --');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy(:'hostile', '20 days', 'when "then"; --; DROP TABLE sec_victim');
\echo :LAST_ERROR_SQLSTATE
SELECT policy_id = :del_pol AS is_delete, tbl, after, action, basis, created_by FROM retention.policies
 WHERE tbl = :'hostile'::regclass ORDER BY policy_id;
-- the advised index is valid SQL naming exactly these objects
SELECT retention.index_advice(:del_pol) \gexec
SELECT indexdef LIKE '%("when ""then""; --")' AS index_on_anchor FROM pg_indexes
 WHERE schemaname = 'Sch''ema; DROP TABLE sec_victim; --' AND indexname NOT LIKE '%pkey';
SELECT policy_id = :del_pol AS is_delete, rows_due FROM retention.preview('2022-01-30')
 WHERE tbl = :'hostile'::regclass ORDER BY policy_id;
RESET ROLE;
-- runs: as the owner with the hostile name; the constant mask is written exactly
CALL retention.run(:'hostile', '2022-02-04');
SELECT "id'; DROP TABLE sec_victim; --" AS id, "e mail $$; DROP TABLE sec_victim; $$" AS email, "note: a; b" AS note
  FROM :hostile ORDER BY 1;
SELECT tbl, action, rows, status FROM retention.runs WHERE policy_id IN (:del_pol, :anon_pol) ORDER BY run_id;
-- renaming the anchor to another hostile name: the policies follow
ALTER TABLE :hostile RENAME COLUMN "when ""then""; --" TO "then'; DROP TABLE sec_victim; --";
SELECT DISTINCT after FROM retention.policies WHERE tbl = :'hostile'::regclass;

-- subjects, holds and erasure with hostile kinds, ids and reasons
CREATE TABLE sec_people (handle text PRIMARY KEY, name text);
INSERT INTO sec_people VALUES ($$o'brien; DROP TABLE sec_victim; --$$, 'O''Brien'), ('$$ x $$', 'Dollar');
SELECT retention.tag('sec_people', 'name', 'name');
SELECT retention.add_subject($k$kind'; DROP TABLE sec_victim; --$k$, 'sec_people', 'handle');
SELECT retention.add_subject('kind with trailing blank ', 'sec_people', 'handle');
\echo :LAST_ERROR_SQLSTATE
SELECT kind, tbl, key FROM retention.subjects WHERE tbl = 'sec_people'::regclass;
SELECT retention.hold($k$kind'; DROP TABLE sec_victim; --$k$, $$o'brien; DROP TABLE sec_victim; --$$,
       $r$court order 'A'; DROP TABLE sec_victim; -- $$$r$) AS h \gset
SELECT kind, id, reason, active FROM retention.holds WHERE hold_id = :h;
SELECT tbl::text, action, rows FROM retention.erase_subject($k$kind'; DROP TABLE sec_victim; --$k$, $$o'brien; DROP TABLE sec_victim; --$$);
SELECT retention.release(:h);
SELECT tbl::text, action, rows FROM retention.erase_subject($k$kind'; DROP TABLE sec_victim; --$k$, '$$ x $$');
SELECT handle FROM sec_people ORDER BY 1;
SELECT retention.hold($k$kind'; DROP TABLE sec_victim; --$k$, $$x'); DROP TABLE sec_victim; --$$, '   ');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold_table('sec_people', $r$table hold'; DELETE FROM sec_victim; --$r$) AS ht \gset
SELECT reason FROM retention.holds WHERE hold_id = :ht;
SELECT retention.release(:ht);

-- the audit trail keeps every text as written, as valid JSON, and still verifies
SELECT event, details->>'basis' AS basis FROM retention.audit
 WHERE event = 'policy_added' AND (details->>'policy_id')::bigint IN (:del_pol, :anon_pol) ORDER BY seq;
SELECT event, details->>'reason' AS reason FROM retention.audit
 WHERE event IN ('hold', 'hold_table') AND details->>'reason' LIKE '%sec_victim%' ORDER BY seq;
SELECT event, tbl, details->>'label' AS label FROM retention.audit
 WHERE event = 'tagged' AND details->>'column' = 'note: a; b' ORDER BY seq;
SELECT DISTINCT actor FROM retention.audit WHERE actor LIKE 'sec own%';
-- (07_audit tampered with the trail on purpose: the entries from here on still chain)
SELECT bool_and(b.prev_hash = a.hash) AS chained FROM retention.audit a JOIN retention.audit b ON b.seq = a.seq + 1
 WHERE a.seq >= (SELECT min(seq) FROM retention.audit WHERE event = 'policy_added' AND (details->>'policy_id')::bigint = :del_pol);

-- nothing ran: the victim is whole, no stray object appeared
SELECT x FROM sec_victim;
SELECT count(*) AS stray_relations FROM pg_class
 WHERE relname LIKE '%sec_victim%' AND relname <> 'sec_victim'
   AND relnamespace <> '"Sch''ema; DROP TABLE sec_victim; --"'::regnamespace;

-- clean up
SELECT retention.drop_policy(:del_pol);
SELECT retention.drop_policy(:anon_pol);
SELECT retention.drop_subject($k$kind'; DROP TABLE sec_victim; --$k$);
DROP TABLE sec_people, sec_victim;
DROP SCHEMA "Sch'ema; DROP TABLE sec_victim; --" CASCADE;
DROP ROLE "sec own'er; DROP TABLE sec_victim; --";
