-- A stored generated column computed from a masked column, covered by a unique
-- index (alone, with other columns, in a primary key or an exclusion constraint):
-- masking the column makes PostgreSQL compute equal generated values, and every
-- batch would fail.  Refused when declared, as a unique index on the column itself
-- is (retention.tag, SECURITY LABEL, add_policy/alter_policy of an anonymize
-- policy), and refused when DDL creates such a column or index later, on the
-- table, its partitions and inheritance children.  Each refusal changes nothing.
SET client_min_messages = warning;
CREATE SCHEMA eng_gen;
SET search_path = eng_gen, public;
RESET client_min_messages;

CREATE TABLE members (id int PRIMARY KEY, email text, phone text, closed_at date,
                      email_key text GENERATED ALWAYS AS (lower(email)) STORED UNIQUE);
INSERT INTO members (id, email, phone, closed_at)
VALUES (1, 'Ann@Example.com', '13812345678', '2020-01-01'), (2, 'bob@example.com', '13987654321', '2020-01-01');
-- a lossy mask on email: refused, as on a unique email column
SELECT retention.tag('members', 'email', 'email');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('members', 'email', 'email', 'partial(1,0)');
\echo :LAST_ERROR_SQLSTATE
SECURITY LABEL FOR retention ON COLUMN members.email IS 'email:constant(x)';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tags FROM retention.personal_columns WHERE table_name = 'eng_gen.members';
-- the null mask keeps the key NULL (lower() of NULL), and NULLs are distinct: accepted,
-- and a run masks both rows without a collision
SELECT retention.tag('members', 'email', 'email', 'null') AS null_mask_ok;
SET client_min_messages = warning;
SELECT retention.add_policy('members', interval '1 year', 'closed_at', 'anonymize', '{email}') AS p \gset
RESET client_min_messages;
SET client_min_messages = warning;
CALL retention.run('members', '2026-07-01');
RESET client_min_messages;
SELECT id, email, email_key FROM members ORDER BY id;
SELECT action, rows, status FROM retention.runs WHERE policy_id = :p;
SELECT retention.drop_policy(:p);
SELECT retention.untag('members', 'email');

-- NULLS NOT DISTINCT, or an expression that turns NULL into a value: the null mask collides too
CREATE TABLE handles (id int, nick text, tag text,
                      nick_key text GENERATED ALWAYS AS (coalesce(nick, '-')) STORED UNIQUE,
                      tag_key text GENERATED ALWAYS AS (upper(tag)) STORED UNIQUE NULLS NOT DISTINCT);
SELECT retention.tag('handles', 'nick', 'name', 'null');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('handles', 'tag', 'other', 'null');
\echo :LAST_ERROR_SQLSTATE
-- the same through an index expression on the column itself
CREATE TABLE handles2 (id int, nick text);
CREATE UNIQUE INDEX handles2_nick ON handles2 (coalesce(nick, '-'));
SELECT retention.tag('handles2', 'nick', 'name', 'null');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tags FROM retention.personal_columns WHERE table_name IN ('eng_gen.handles', 'eng_gen.handles2');

-- primary key, unique index of several columns, exclusion constraint, expression over the generated column
CREATE TABLE keyed (email text, tenant int,
                    email_key text GENERATED ALWAYS AS (lower(email)) STORED, PRIMARY KEY (tenant, email_key));
SELECT retention.tag('keyed', 'email', 'email');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE excluded (phone text, phone_digits text GENERATED ALWAYS AS (regexp_replace(phone, '\D', '', 'g')) STORED,
                       EXCLUDE USING btree (phone_digits WITH =));
SELECT retention.tag('excluded', 'phone', 'phone');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE expr (email text, email_key text GENERATED ALWAYS AS (lower(email)) STORED);
CREATE UNIQUE INDEX expr_key ON expr (md5(email_key));
SELECT retention.tag('expr', 'email', 'email');
\echo :LAST_ERROR_SQLSTATE
-- a pseudonym keeps distinct values distinct; a unique index on INCLUDE columns only is no key
SELECT retention.tag('keyed', 'email', 'email', 'pseudonym') AS pseudonym_ok;
CREATE TABLE included (id int, email text, email_key text GENERATED ALWAYS AS (lower(email)) STORED);
CREATE UNIQUE INDEX included_id ON included (id) INCLUDE (email_key);
SELECT retention.tag('included', 'email', 'email') AS include_only_ok;

-- add_policy and alter_policy of an anonymize policy check the tags again: a state
-- the DDL check did not see (its event trigger disabled by a superuser) is refused
CREATE TABLE later (id int, email text, phone text, closed_at date,
                    email_key text GENERATED ALWAYS AS (lower(email)) STORED);
SELECT retention.tag('later', 'email', 'email');
SELECT retention.tag('later', 'phone', 'phone');
SET client_min_messages = warning;
SELECT retention.add_policy('later', interval '1 year', 'closed_at', 'anonymize', '{phone}') AS lp \gset
RESET client_min_messages;
ALTER EVENT TRIGGER retention_ddl_end DISABLE;
CREATE UNIQUE INDEX later_key ON later (email_key);
ALTER EVENT TRIGGER retention_ddl_end ENABLE;
SELECT retention.add_policy('later', interval '1 year', 'closed_at', 'anonymize');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.alter_policy(:lp, columns => '{phone,email}');
\echo :LAST_ERROR_SQLSTATE
SELECT policy_id = :lp AS same_policy, columns FROM retention.policies WHERE tbl = 'later'::regclass;
DROP INDEX later_key;

-- DDL later: a generated column with a unique constraint, a unique index on one
SELECT retention.tag('members', 'phone', 'phone');
ALTER TABLE members ADD COLUMN phone_key text GENERATED ALWAYS AS (right(phone, 8)) STORED UNIQUE;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE members ADD COLUMN phone_key text GENERATED ALWAYS AS (right(phone, 8)) STORED;
CREATE UNIQUE INDEX ON members (phone_key);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE members ADD CONSTRAINT members_phone_key UNIQUE (phone_key);
\echo :LAST_ERROR_SQLSTATE
CREATE UNIQUE INDEX ON members (id, upper(phone_key));
\echo :LAST_ERROR_SQLSTATE
-- a plain index is fine; the unique index on email_key, not computed from phone, stays
CREATE INDEX members_phone_key_plain ON members (phone_key);
SELECT a.attname AS column_name, a.attgenerated FROM pg_attribute a
 WHERE a.attrelid = 'members'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum;
SELECT indexrelid::regclass AS index, indisunique FROM pg_index WHERE indrelid = 'members'::regclass ORDER BY 1;

-- partitions: the tag on the parent, the generated column inherited
CREATE TABLE orders (id int, email text, at date,
                     email_key text GENERATED ALWAYS AS (lower(email)) STORED) PARTITION BY RANGE (at);
CREATE TABLE orders_2020 PARTITION OF orders FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
SELECT retention.tag('orders', 'email', 'email');
CREATE UNIQUE INDEX ON orders_2020 (email_key);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE orders_2021 PARTITION OF orders (UNIQUE (email_key)) FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
\echo :LAST_ERROR_SQLSTATE
CREATE UNIQUE INDEX ON orders (email_key, at);
\echo :LAST_ERROR_SQLSTATE
-- a table with such an index attached as a partition
CREATE TABLE orders_2022 (id int, email text, at date,
                          email_key text GENERATED ALWAYS AS (lower(email)) STORED UNIQUE);
ALTER TABLE orders ATTACH PARTITION orders_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'orders'::regclass;

-- inheritance children, with a generated column of their own
CREATE TABLE people (id int, phone text);
SELECT retention.tag('people', 'phone', 'phone');
CREATE TABLE staff (phone_key text GENERATED ALWAYS AS (right(phone, 4)) STORED UNIQUE) INHERITS (people);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE staff (phone_key text GENERATED ALWAYS AS (right(phone, 4)) STORED) INHERITS (people);
CREATE UNIQUE INDEX ON staff (phone_key);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS unique_indexes FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE i.indisunique AND c.relnamespace = 'eng_gen'::regnamespace
   AND c.relname IN ('staff', 'people', 'orders', 'orders_2020');

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA eng_gen CASCADE;
RESET client_min_messages;
