-- Declaration-time checks of masks and anonymize policies, each refusal with
-- its SQLSTATE; and the guards that keep tags and anonymize policies consistent.
-- A database of its own, so that policy ids in messages do not depend on the
-- tests before this one.
\set regress_db :DBNAME
CREATE DATABASE regress_rt_anon_checks;
\c regress_rt_anon_checks
CREATE EXTENSION pg_retention;
SET timezone = 'UTC';
SET retention.key_file = '';

CREATE TABLE "Anon Check" (
    id int PRIMARY KEY,
    "E-Mail" text NOT NULL UNIQUE,
    nick varchar(20),
    handle char(30),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    code text CHECK (code IS NOT NULL),
    zip text CHECK (length(zip) = 6),
    lower_mail text,
    age int,
    ip inet,
    born date,
    seen timestamptz,
    shout text GENERATED ALWAYS AS (upper("E-Mail")) STORED,
    serial_no int GENERATED ALWAYS AS IDENTITY,
    closed_at date
);
CREATE UNIQUE INDEX anon_check_lower ON "Anon Check" (lower(lower_mail));

-- NOT NULL: the null mask
SELECT retention.tag('"Anon Check"', 'status', 'other');
\echo :LAST_ERROR_SQLSTATE
-- CHECK on the column alone, tried with the mask's one output value
SELECT retention.tag('"Anon Check"', 'status', 'other', 'constant(gone)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'status', 'other', 'constant(closed)') AS status_constant_ok;
SELECT retention.tag('"Anon Check"', 'code', 'other');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'zip', 'postal_code', 'constant(12345)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'zip', 'postal_code', 'constant(123456)') AS zip_constant_ok;
-- ... and with a sample pseudonym (27 characters) for the pseudonym mask
SELECT retention.tag('"Anon Check"', 'zip', 'postal_code', 'pseudonym');
\echo :LAST_ERROR_SQLSTATE
-- a null mask passes a CHECK that NULL satisfies
SELECT retention.tag('"Anon Check"', 'zip', 'postal_code', 'null') AS zip_null_ok;
-- UNIQUE and PRIMARY KEY: a mask that can make two values equal
SELECT retention.tag('"Anon Check"', 'E-Mail', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'id', 'other', 'constant(0)');
\echo :LAST_ERROR_SQLSTATE
-- ... also through an expression index
SELECT retention.tag('"Anon Check"', 'lower_mail', 'email');
\echo :LAST_ERROR_SQLSTATE
-- a pseudonym keeps distinct values distinct
SELECT retention.tag('"Anon Check"', 'E-Mail', 'email', 'pseudonym(mail)') AS unique_pseudonym_ok;
SELECT retention.tag('"Anon Check"', 'lower_mail', 'email', 'pseudonym(mail)') AS expression_index_pseudonym_ok;
-- a pseudonym does not fit varchar(20); char(30) holds one
SELECT retention.tag('"Anon Check"', 'nick', 'name');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'nick', 'name', 'partial(1,0)') AS nick_partial_ok;
SELECT retention.tag('"Anon Check"', 'handle', 'name') AS handle_pseudonym_ok;
-- a constant longer than the column
SELECT retention.tag('"Anon Check"', 'nick', 'name', 'constant(abcdefghijklmnopqrstuvwxyz)');
\echo :LAST_ERROR_SQLSTATE
-- generated and identity columns
SELECT retention.tag('"Anon Check"', 'shout', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'serial_no', 'other');
\echo :LAST_ERROR_SQLSTATE
-- generalize: units for dates (no hour), whole steps for integers, IPv4 prefixes
SELECT retention.tag('"Anon Check"', 'born', 'birth_date', 'generalize(hour)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'born', 'birth_date', 'generalize( Decade )') AS born_decade_ok;
SELECT retention.tag('"Anon Check"', 'seen', 'other', 'generalize(hour)') AS seen_hour_ok;
SELECT retention.tag('"Anon Check"', 'age', 'other', 'generalize(2.5)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'age', 'other', 'generalize(5)') AS age_step_ok;
SELECT retention.tag('"Anon Check"', 'ip', 'ip_address', 'generalize(33)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('"Anon Check"', 'ip', 'ip_address') AS ip_default_ok;
-- a function mask needs a type with an equality operator (runs compare value and mask)
CREATE TABLE anon_points (p point, at date);
CREATE FUNCTION anon_blur(point) RETURNS point LANGUAGE sql IMMUTABLE AS 'SELECT point(0, 0)';
SELECT retention.tag('anon_points', 'p', 'location', 'function(public.anon_blur)');
\echo :LAST_ERROR_SQLSTATE
SELECT column_name, category, mask FROM retention.personal_columns
 WHERE table_name = 'Anon Check' ORDER BY column_name;

-- foreign keys: a masked referencing column would point nowhere, a masked
-- referenced key would leave its references behind (unless ON UPDATE CASCADE)
CREATE TABLE anon_parent (code text PRIMARY KEY, alias text UNIQUE, label text);
CREATE TABLE anon_child (id int, parent_code text REFERENCES anon_parent (code),
                         parent_alias text REFERENCES anon_parent (alias) ON UPDATE CASCADE);
SELECT retention.tag('anon_child', 'parent_code', 'other', 'pseudonym');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('anon_child', 'parent_code', 'other', 'null') AS referencing_null_ok;
SELECT retention.tag('anon_parent', 'code', 'other', 'pseudonym');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('anon_parent', 'alias', 'other', 'pseudonym') AS cascading_key_ok;

-- a tag on a partitioned table is checked against every partition's own indexes
CREATE TABLE anon_parted (id int, mail text, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE anon_parted_2022 PARTITION OF anon_parted FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE UNIQUE INDEX anon_parted_2022_mail ON anon_parted_2022 (mail);
SELECT retention.tag('anon_parted', 'mail', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('anon_parted', 'mail', 'email', 'pseudonym') AS parted_pseudonym_ok;

-- an anonymize policy is checked against every table it reaches; a pseudonym
-- without a usable key is accepted with a warning
SELECT retention.add_policy('anon_parted', interval '30 days', 'at', 'anonymize') > 0 AS parted_policy;
-- a policy on a partition finds the tags of its parent
SELECT retention.add_policy('anon_parted_2022', interval '30 days', 'at', 'anonymize', '{mail}') > 0 AS partition_policy;
SELECT retention.add_policy('"Anon Check"', interval '30 days', 'closed_at', 'anonymize', '{closed_at}');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_policy('"Anon Check"', interval '30 days', 'closed_at', 'anonymize', '{nope}');
\echo :LAST_ERROR_SQLSTATE

-- untag: refused while an anonymize policy masks the column (2BP01)
SELECT retention.add_policy('"Anon Check"', interval '30 days', 'closed_at', 'anonymize', '{nick,born}') AS pid \gset
SELECT retention.untag('"Anon Check"', 'nick');
\echo :LAST_ERROR_SQLSTATE
SECURITY LABEL FOR retention ON COLUMN "Anon Check".born IS NULL;
\echo :LAST_ERROR_SQLSTATE
-- columns the policy does not name may go
SELECT retention.untag('"Anon Check"', 'age') AS untag_other_ok;
-- take the column out of the policy, then untag
SELECT retention.alter_policy(:pid, columns => '{born}');
SELECT retention.untag('"Anon Check"', 'nick') AS untag_after_alter_ok;
-- a policy without columns masks all tagged columns: the last one cannot go
CREATE TABLE anon_last (mail text, at date);
SELECT retention.tag('anon_last', 'mail', 'email');
SELECT retention.add_policy('anon_last', interval '30 days', 'at', 'anonymize') AS last_pid \gset
SELECT retention.untag('anon_last', 'mail');
\echo :LAST_ERROR_SQLSTATE
-- the tag of a partition's parent counts: untagging the parent is refused
SELECT retention.untag('anon_parted', 'mail');
\echo :LAST_ERROR_SQLSTATE
-- a column type change that the mask no longer fits is refused
ALTER TABLE "Anon Check" ALTER COLUMN born TYPE text;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE "Anon Check" ALTER COLUMN handle TYPE varchar(10);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE "Anon Check" ALTER COLUMN handle TYPE varchar(40);
SELECT column_name, data_type, mask FROM retention.personal_columns WHERE column_name = 'handle';
-- nothing of the refused calls changed anything
SELECT count(*) AS tags FROM retention.personal_columns;
SELECT policy_id, tbl, action, columns FROM retention.policies WHERE action = 'anonymize' ORDER BY policy_id;

\c :regress_db
DROP DATABASE regress_rt_anon_checks;
