-- A unique index (or UNIQUE constraint) on a partition or inheritance child must fit
-- the tags it inherits, as ATTACH PARTITION already checked: a lossy mask on a
-- column that a partition's own unique index covers would make every run fail.
SET client_min_messages = warning;
CREATE SCHEMA eng_ddl;
SET search_path = eng_ddl, public;
CREATE TABLE orders (id int, email text, ship_to text, at date) PARTITION BY RANGE (at);
CREATE TABLE orders_2020 PARTITION OF orders FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE orders_2021 PARTITION OF orders FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')
    PARTITION BY RANGE (at);
CREATE TABLE orders_2021_h1 PARTITION OF orders_2021 FOR VALUES FROM ('2021-01-01') TO ('2021-07-01');
-- the tag is on the parent only; email's default mask (email) is lossy
SELECT retention.tag('orders', 'email', 'email');
RESET client_min_messages;

-- the finding: CREATE UNIQUE INDEX on a partition was accepted
CREATE UNIQUE INDEX ON orders_2020 (email);
\echo :LAST_ERROR_SQLSTATE
-- two levels down, and through an expression
CREATE UNIQUE INDEX ON orders_2021_h1 (lower(email));
\echo :LAST_ERROR_SQLSTATE
-- the same as a constraint added to a partition
ALTER TABLE orders_2020 ADD CONSTRAINT orders_2020_email_key UNIQUE (email);
\echo :LAST_ERROR_SQLSTATE
-- a partition created with a unique constraint of its own
CREATE TABLE orders_2022 PARTITION OF orders (UNIQUE (email)) FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
\echo :LAST_ERROR_SQLSTATE
-- and the parent itself
CREATE UNIQUE INDEX ON orders (email, at);
\echo :LAST_ERROR_SQLSTATE
-- nothing was created
SELECT count(*) AS unique_indexes FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE i.indisunique AND c.relnamespace = 'eng_ddl'::regnamespace;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'orders'::regclass;

-- what fits is allowed: a unique index on another column, a plain index on the
-- tagged one, and a unique index once the tag keeps values distinct
CREATE UNIQUE INDEX orders_2020_id ON orders_2020 (id);
CREATE INDEX orders_2020_email ON orders_2020 (email);
SELECT retention.tag('orders', 'email', 'email', 'pseudonym');
CREATE UNIQUE INDEX orders_2020_email_u ON orders_2020 (email);
SELECT retention.tag('orders', 'ship_to', 'address', 'constant(REDACTED)');
CREATE UNIQUE INDEX ON orders_2021_h1 (ship_to);
\echo :LAST_ERROR_SQLSTATE

-- a partition's own tag is what runs apply to it, so that is what is checked
SELECT retention.tag('orders_2021_h1', 'ship_to', 'address', 'pseudonym');
CREATE UNIQUE INDEX orders_2021_h1_ship_to ON orders_2021_h1 (ship_to);

-- inheritance children: the same rules
CREATE TABLE people (id int, phone text);
SELECT retention.tag('people', 'phone', 'phone');
CREATE TABLE staff (dept text) INHERITS (people);
CREATE UNIQUE INDEX ON staff (phone);
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE contractors (agency text, UNIQUE (phone)) INHERITS (people);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE staff ADD CONSTRAINT staff_phone_key UNIQUE (phone);
\echo :LAST_ERROR_SQLSTATE
-- a table that joins the family later (ALTER TABLE ... INHERIT) with such an index
CREATE TABLE temps (id int, phone text UNIQUE, dept text);
ALTER TABLE temps INHERIT people;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS children FROM pg_inherits WHERE inhparent = 'people'::regclass;

-- other DDL on partitions is not disturbed
CREATE TABLE orders_2023 PARTITION OF orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE standalone (email text UNIQUE);
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'orders'::regclass;

RESET search_path;
SET client_min_messages = warning;
DROP SCHEMA eng_ddl CASCADE;
RESET client_min_messages;
