-- Keys and links under nondeterministic (case-insensitive) collations and citext: an access
-- request or an erasure for one person never returns or removes another person's rows.
-- Every comparison with the key uses the key's own equality (its collation), whatever the
-- linked column's; a join along a foreign key uses the referenced column's collation.
SET timezone = 'UTC';
SET client_min_messages = warning;
CREATE SCHEMA keq;
SELECT 'pg_retention_43_' || pg_backend_pid() || '_' || extract(epoch FROM clock_timestamp())::bigint || '.key'
       AS key_path \gset
SELECT length(retention.create_key(:'key_path')) > 0 AS key_created;
SET retention.key_file = :'key_path';
CREATE COLLATION keq.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- 1. a deterministic key: 'Bob' and 'bob' are two people. A log linked under the
--    case-insensitive collation and orders whose foreign key column is under it belong to
--    whoever the key's own equality names.
CREATE TABLE keq.people (name text PRIMARY KEY, note text);
CREATE TABLE keq.people_log (who text COLLATE keq.ci, what text);
CREATE TABLE keq.people_orders (id int PRIMARY KEY, who text COLLATE keq.ci REFERENCES keq.people);
INSERT INTO keq.people VALUES ('Bob', 'first Bob'), ('bob', 'second person');
INSERT INTO keq.people_log VALUES ('Bob', 'by Bob'), ('bob', 'by bob'), ('BOB', 'by nobody exactly');
INSERT INTO keq.people_orders VALUES (1, 'Bob'), (2, 'bob');
SELECT retention.tag('keq.people', 'note', 'other', 'constant(masked)');
SELECT retention.add_subject('person', 'keq.people', 'name');
SELECT retention.link_subject('person', 'keq.people_log', 'who');
SELECT t->>'table' AS tbl, t->'rows' AS rows
  FROM jsonb_array_elements(retention.subject_data('person', 'Bob')->'tables') t;
SELECT t->>'table' AS tbl, t->'rows' AS rows
  FROM jsonb_array_elements(retention.subject_data('person', 'bob')->'tables') t;
-- erasing Bob removes Bob's log line and order only; Bob's own row stays masked, because
-- PostgreSQL's own ON DELETE check compares under the referencing column's collation and
-- takes bob's order for a reference to Bob too (the erasure keeps what that check keeps)
SELECT tbl, action, rows FROM retention.erase_subject('person', 'Bob') ORDER BY tbl::text, action;
SELECT name, note FROM keq.people ORDER BY name COLLATE "C";
SELECT who, what FROM keq.people_log ORDER BY who COLLATE "C";
SELECT id, who FROM keq.people_orders ORDER BY id;

-- 2. a key unique under the case-insensitive collation: 'Bob' and 'bob' cannot both exist,
--    so every spelling is the one person; linked and referencing columns under "C" are
--    compared under the key's collation, and another person (Ann) is untouched
CREATE TABLE keq.members (name text COLLATE keq.ci PRIMARY KEY, note text);
CREATE TABLE keq.members_log (who text COLLATE "C", what text);
CREATE TABLE keq.members_orders (id int PRIMARY KEY, who text COLLATE "C" REFERENCES keq.members);
INSERT INTO keq.members VALUES ('Bob', 'the only Bob'), ('Ann', 'another person');
INSERT INTO keq.members VALUES ('bob', 'a second bob?');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO keq.members_log VALUES ('Bob', 'by Bob'), ('bob', 'by bob'), ('BOB', 'by BOB'), ('Ann', 'by Ann');
INSERT INTO keq.members_orders VALUES (1, 'Bob'), (2, 'bob'), (3, 'ann');
SELECT retention.add_subject('keq_member', 'keq.members', 'name');
SELECT retention.link_subject('keq_member', 'keq.members_log', 'who');
SELECT t->>'table' AS tbl, (t->>'count')::int AS count
  FROM jsonb_array_elements(retention.subject_data('keq_member', 'BOB')->'tables') t;
SELECT tbl, action, rows FROM retention.erase_subject('keq_member', 'bob') ORDER BY tbl::text, action;
SELECT name FROM keq.members;
SELECT who FROM keq.members_log;
SELECT id, who FROM keq.members_orders;
-- the ledger names the subject by the key as stored ('Bob'), whatever spelling was asked for
SELECT count(DISTINCT subject_hash) AS one_token FROM retention.erasures WHERE kind = 'keq_member';

-- 3. citext: a citext key finds a text link's rows case-insensitively (the key's equality);
--    a text key does not let a citext link reach another person's rows
CREATE EXTENSION IF NOT EXISTS citext SCHEMA keq;
CREATE TABLE keq.ci_accounts (email keq.citext PRIMARY KEY, note text);
CREATE TABLE keq.ci_log (who text, what text);
INSERT INTO keq.ci_accounts VALUES ('Bob@x.org', 'b'), ('ann@x.org', 'a');
INSERT INTO keq.ci_log VALUES ('Bob@x.org', 'one'), ('bob@X.org', 'two'), ('ann@x.org', 'three');
SELECT retention.add_subject('ci_account', 'keq.ci_accounts', 'email');
SELECT retention.link_subject('ci_account', 'keq.ci_log', 'who');
SELECT t->>'table' AS tbl, (t->>'count')::int AS count
  FROM jsonb_array_elements(retention.subject_data('ci_account', 'BOB@X.ORG')->'tables') t;
CREATE TABLE keq.text_accounts (email text PRIMARY KEY, note text);
CREATE TABLE keq.text_log (who keq.citext, what text);
INSERT INTO keq.text_accounts VALUES ('Bob@x.org', 'b'), ('bob@x.org', 'another person');
INSERT INTO keq.text_log VALUES ('Bob@x.org', 'Bob''s'), ('bob@x.org', 'bob''s');
SELECT retention.add_subject('text_account', 'keq.text_accounts', 'email');
SELECT retention.link_subject('text_account', 'keq.text_log', 'who');
SELECT tbl, action, rows FROM retention.erase_subject('text_account', 'Bob@x.org') ORDER BY tbl::text, action;
SELECT email FROM keq.text_accounts;
SELECT who, what FROM keq.text_log;

-- 4. a key whose unique index compares under another collation than the column's is
--    still refused (two rows the erasure's equality takes for one person)
CREATE TABLE keq.loose (email text COLLATE keq.ci, name text);
CREATE UNIQUE INDEX ON keq.loose (email COLLATE "C");
SELECT retention.add_subject('loose', 'keq.loose', 'email');
\echo :LAST_ERROR_SQLSTATE

-- 5. a key the caller types reads as the caller's own cast reads it: in DateStyle DMY,
--    '02/01/2024' is 2 January, for the access request, the hold and the erasure alike;
--    the ledger and the hold keep the canonical (ISO) text
CREATE TABLE keq.day_person (day date PRIMARY KEY, name text);
INSERT INTO keq.day_person VALUES ('2024-01-02', 'Jan'), ('2024-02-01', 'Feb');
SELECT retention.add_subject('day', 'keq.day_person', 'day');
SET DateStyle = 'SQL, DMY';
SELECT '02/01/2024'::date = date '2024-01-02' AS cast_reads_2_january;
SELECT t->'rows'->0->>'name' AS name FROM jsonb_array_elements(retention.subject_data('day', '02/01/2024')->'tables') t;
SELECT retention.hold('day', '01/02/2024', 'dispute about February') AS day_hold \gset
SELECT kind, id FROM retention.holds WHERE hold_id = :day_hold;
SELECT tbl, action, rows FROM retention.erase_subject('day', '02/01/2024');
SELECT status, rows FROM retention.erasures WHERE kind = 'day';
RESET DateStyle;
SELECT to_char(day, 'YYYY-MM-DD') AS day, name FROM keq.day_person;
SELECT retention.release(:day_hold);

SELECT retention.drop_subject(kind) FROM retention.subjects
 WHERE kind IN ('person', 'keq_member', 'ci_account', 'text_account', 'day');
DROP SCHEMA keq CASCADE;
RESET retention.key_file;
