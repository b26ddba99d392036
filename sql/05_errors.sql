-- Bad input: every wrong call fails with a specific SQLSTATE, names the object, and changes nothing
SET timezone = 'UTC';
-- policy ids of this file start at 501, whatever the files before it did
SELECT setval('retention.policy_catalog_policy_id_seq', 500) IS NOT NULL AS ids_pinned;
CREATE TABLE t (id int PRIMARY KEY, note text, created timestamptz, email text NOT NULL,
                code text UNIQUE, amount numeric, ip inet, born date,
                shout text GENERATED ALWAYS AS (upper(note)) STORED,
                n int GENERATED ALWAYS AS IDENTITY);
CREATE VIEW v AS SELECT * FROM t;
CREATE MATERIALIZED VIEW mv AS SELECT * FROM t;
CREATE TABLE "Odd ""Name""; DROP TABLE t; --" (id int, "when" timestamptz);
SELECT retention.add_policy('"Odd ""Name""; DROP TABLE t; --"', '1 day', 'when') AS odd \gset
SELECT retention.tag('t', 'email', 'email');

-- tag
SELECT retention.tag('t', 'note', 'favourite_colour');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'nope', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'Note', 'free_text');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'ctid', 'other');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'shout', 'name');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'n', 'other');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'email', 'email', 'null');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'code', 'cookie_id', 'partial(2,2)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'code', 'cookie_id', 'constant(x)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'amount', 'bank_account');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'amount', 'bank_account', 'pseudonym');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'amount', 'bank_account', 'constant(lots)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'amount', 'bank_account', 'generalize(-5)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'ip', 'ip_address', 'generalize(33)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'born', 'birth_date', 'generalize(fortnight)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text', 'generalize(year)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text', 'shuffle');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text', 'partial(2)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text', 'email(x)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text', 'function(no_schema)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text', 'function(public.nonexistent)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('v', 'note', 'free_text');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('no_such_table', 'note', 'free_text');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.untag('t', 'note');
\echo :LAST_ERROR_SQLSTATE
-- nothing was tagged by the failed calls
SELECT column_name, category FROM retention.personal_columns WHERE table_name = 't' ORDER BY 1;

-- add_policy
SELECT retention.add_policy('t', interval '0 days', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', interval '-1 day', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '10', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '1 month -40 days', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '1 mon -29 days', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '10000 years', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('pg_catalog.pg_authid', '1 day', 'rolvaliduntil');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('pg_catalog.pg_authid', 'rolname', 'name');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'note');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', 'explode');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('v', '30 days', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('mv', '30 days', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', batch_size => 0);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', batch_size => 2000000);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', time_zone => 'Mars/Olympus_Mons');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', columns => '{email}');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', 'anonymize', columns => '{note}');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', '30 days', 'created', 'anonymize', columns => '{email,email}');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('t', NULL, 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy(NULL, '30 days', 'created');
\echo :LAST_ERROR_SQLSTATE
CREATE TEMP TABLE tmp (at timestamptz);
SELECT retention.add_policy('tmp', '30 days', 'at');
\echo :LAST_ERROR_SQLSTATE
-- as an ordinary role that does not own the table
CREATE ROLE retention_outsider;
GRANT SELECT ON t TO retention_outsider;
SET ROLE retention_outsider;
SELECT retention.add_policy('t', '30 days', 'created');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'note', 'free_text');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:odd, keep => '2 days');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.drop_policy(:odd);
\echo :LAST_ERROR_SQLSTATE
CALL retention.run('"Odd ""Name""; DROP TABLE t; --"');
\echo :LAST_ERROR_SQLSTATE
SET retention.min_keep = '1s';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- nothing changed: only the one policy declared above exists
SELECT tbl, keep, after FROM retention.policies;

-- alter_policy and drop_policy
SELECT retention.alter_policy(999999, keep => '1 day');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.drop_policy(999999);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:odd, keep => '1 second');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:odd, after => 'id');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:odd, action => 'shred');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT tbl, keep, after, action FROM retention.policies;

-- run and preview
CALL retention.run('t');
\echo :LAST_ERROR_SQLSTATE
CALL retention.run(NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
CALL retention.run(NULL, 'infinity');
\echo :LAST_ERROR_SQLSTATE
CALL retention.run(NULL, '2999-01-01 00:00+00');
\echo :LAST_ERROR_SQLSTATE
CALL retention.run(0);
\echo :LAST_ERROR_SQLSTATE
CALL retention.run('v');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.preview(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS runs FROM retention.runs;

-- DDL that would break a policy is refused
ALTER TABLE "Odd ""Name""; DROP TABLE t; --" DROP COLUMN "when";
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE "Odd ""Name""; DROP TABLE t; --" ALTER COLUMN "when" TYPE text;
\echo :LAST_ERROR_SQLSTATE
-- a table typed by a composite type: ALTER TYPE ... CASCADE is guarded too
CREATE TYPE evt AS (id int, at timestamptz);
CREATE TABLE typed OF evt;
SELECT retention.add_policy('typed', '30 days', 'at') AS typed_pol \gset
ALTER TYPE evt ALTER ATTRIBUTE at TYPE text CASCADE;
\echo :LAST_ERROR_SQLSTATE
ALTER TYPE evt RENAME ATTRIBUTE at TO happened CASCADE;
SELECT after FROM retention.policies WHERE policy_id = :typed_pol;
SELECT retention.drop_policy(:typed_pol);
DROP TABLE typed;
DROP TYPE evt;
-- a function a mask uses cannot be dropped, and DDL cannot make a tag unfit
CREATE FUNCTION public.mask_note(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'x' $$;
SELECT retention.tag('t', 'note', 'free_text', 'function(public.mask_note)');
DROP FUNCTION public.mask_note(text);
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('t', 'amount', 'bank_account', 'null');
ALTER TABLE t ALTER COLUMN amount SET NOT NULL;
\echo :LAST_ERROR_SQLSTATE
SELECT retention.untag('t', 'amount');
SELECT retention.untag('t', 'note');
DROP FUNCTION public.mask_note(text);
-- the table with the hostile name still works everywhere
INSERT INTO "Odd ""Name""; DROP TABLE t; --" VALUES (1, '2020-01-01'), (2, NULL);
CALL retention.run('"Odd ""Name""; DROP TABLE t; --"', '2022-01-01');
SELECT count(*) AS left_rows FROM "Odd ""Name""; DROP TABLE t; --";
SELECT count(*) AS t_still_there FROM t;
SELECT retention.drop_policy(:odd);
REVOKE ALL ON t FROM retention_outsider;
DROP ROLE retention_outsider;
