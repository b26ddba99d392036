-- What a run checks after its batches: the rows still due in the table as it
-- is then, each explained (blocked, held, locked, refused) or counted as left.
-- A run is success only when nothing is left unexplained (docs/operations.md
-- "What pg_retention checks after each run and erasure").
SET client_min_messages = notice;
SET timezone = 'UTC';
-- policy ids this file's expected output shows
SELECT setval('retention.policy_catalog_policy_id_seq', 3500) IS NOT NULL AS ids_pinned;
CREATE ROLE rt_truth_app LOGIN;
GRANT CREATE ON SCHEMA public TO rt_truth_app;
SET ROLE rt_truth_app;

-- 1. Row-level security forced on the table owner hides rows from the engine:
--    the run says so (incomplete, with the policy named), never success.
CREATE TABLE truth_tenant_notes (id int PRIMARY KEY, tenant int, note text, at timestamptz);
INSERT INTO truth_tenant_notes SELECT g, g % 2, 'note ' || g, timestamptz '2022-01-01' + g * interval '1 hour'
  FROM generate_series(1, 100) g;
ALTER TABLE truth_tenant_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE truth_tenant_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY truth_tenant_rows ON truth_tenant_notes USING (tenant = 1);
SELECT retention.add_policy('truth_tenant_notes', '30 days', 'at') AS rls \gset
SELECT rows_due, rows_hidden FROM retention.preview('2023-01-01') WHERE policy_id = :rls;
CALL retention.run('truth_tenant_notes', '2023-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, status, rows_left, cause FROM retention.runs WHERE policy_id = :rls;
RESET ROLE;
SELECT count(*) AS still_there FROM truth_tenant_notes;
SET ROLE rt_truth_app;
-- without a policy the owner sees nothing at all: preview and run still count every row
DROP POLICY truth_tenant_rows ON truth_tenant_notes;
SELECT rows_due, rows_hidden FROM retention.preview('2023-01-01') WHERE policy_id = :rls;
CALL retention.run('truth_tenant_notes', '2023-01-01');
SELECT rows, status, rows_left, cause FROM retention.runs WHERE policy_id = :rls ORDER BY run_id DESC LIMIT 1;
-- not forced: the owner sees every row, and the run removes them
ALTER TABLE truth_tenant_notes NO FORCE ROW LEVEL SECURITY;
CALL retention.run('truth_tenant_notes', '2023-01-01');
SELECT rows, status, rows_left FROM retention.runs WHERE policy_id = :rls ORDER BY run_id DESC LIMIT 1;

-- 2. A BEFORE DELETE trigger that returns NULL (a soft delete) keeps the rows:
--    they are refused, named by the trigger, and the run fails.
CREATE TABLE truth_accounts (id int PRIMARY KEY, email text, closed_at timestamptz, deleted_at timestamptz);
CREATE FUNCTION truth_soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE public.truth_accounts SET deleted_at = now() WHERE id = OLD.id; RETURN NULL; END $$;
CREATE TRIGGER truth_soft_delete BEFORE DELETE ON truth_accounts FOR EACH ROW EXECUTE FUNCTION truth_soft_delete();
INSERT INTO truth_accounts VALUES (1, 'a@example.org', '2020-01-01', NULL), (2, 'b@example.org', '2020-01-01', NULL),
  (3, 'c@example.org', NULL, NULL);
SELECT retention.add_policy('truth_accounts', '1 year', 'closed_at') AS soft \gset
CALL retention.run('truth_accounts', '2026-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, refused, status, rows_left, error FROM retention.runs WHERE policy_id = :soft;
SELECT id, deleted_at IS NOT NULL AS soft_deleted FROM truth_accounts ORDER BY id;
DROP TRIGGER truth_soft_delete ON truth_accounts;

--    A DO INSTEAD rule turns the DELETE into something else: not run, refused.
CREATE RULE truth_keep_accounts AS ON DELETE TO truth_accounts DO INSTEAD
  UPDATE truth_accounts SET deleted_at = now() WHERE id = OLD.id;
CALL retention.run('truth_accounts', '2026-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, refused, status, error FROM retention.runs WHERE policy_id = :soft ORDER BY run_id DESC LIMIT 1;
DROP RULE truth_keep_accounts ON truth_accounts;

--    An anonymize run whose BEFORE UPDATE trigger gives the row back unmasked.
CREATE FUNCTION truth_keep_email() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
CREATE TRIGGER truth_keep_email BEFORE UPDATE ON truth_accounts FOR EACH ROW EXECUTE FUNCTION truth_keep_email();
RESET ROLE;
SELECT retention.tag('truth_accounts', 'email', 'email');
SET ROLE rt_truth_app;
SELECT retention.drop_policy(:soft);
SELECT retention.add_policy('truth_accounts', '1 year', 'closed_at', 'anonymize') AS anon \gset
CALL retention.run('truth_accounts', '2026-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, refused, status, error FROM retention.runs WHERE policy_id = :anon;
SELECT id, email FROM truth_accounts ORDER BY id;
DROP TRIGGER truth_keep_email ON truth_accounts;
CALL retention.run('truth_accounts', '2026-01-01');
SELECT rows, refused, status FROM retention.runs WHERE policy_id = :anon ORDER BY run_id DESC LIMIT 1;
SELECT id, email FROM truth_accounts ORDER BY id;

-- 3. A trigger that copies deleted rows into a history table: the personal
--    data goes on living there.  Incomplete unless a policy covers the copies.
CREATE TABLE truth_orders (id int PRIMARY KEY, email text, placed_at timestamptz);
CREATE TABLE truth_orders_history (id int, email text, deleted_at timestamptz DEFAULT now());
CREATE TABLE truth_orders_log (id int, at timestamptz DEFAULT now());
CREATE FUNCTION truth_orders_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO public.truth_orders_history (id, email) VALUES (OLD.id, OLD.email);
  INSERT INTO public.truth_orders_log (id) VALUES (OLD.id);
  RETURN OLD;
END $$;
CREATE TRIGGER truth_orders_keep AFTER DELETE ON truth_orders FOR EACH ROW EXECUTE FUNCTION truth_orders_keep();
INSERT INTO truth_orders SELECT g, 'buyer' || g || '@example.org', timestamptz '2020-01-01' + g * interval '1 day'
  FROM generate_series(1, 10) g;
RESET ROLE;
SELECT retention.tag('truth_orders', 'email', 'email');
SET ROLE rt_truth_app;
SELECT retention.add_policy('truth_orders', '1 year', 'placed_at') AS ord \gset
CALL retention.run('truth_orders', '2026-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT rows, status, rows_left, cause, notes FROM retention.runs WHERE policy_id = :ord;
SELECT count(*) AS copies FROM truth_orders_history;
--    with a policy on the history table the copies are that policy's: success
SELECT retention.add_policy('truth_orders_history', '30 days', 'deleted_at') AS hist \gset
INSERT INTO truth_orders SELECT g, 'buyer' || g || '@example.org', timestamptz '2020-01-01' + g * interval '1 day'
  FROM generate_series(11, 15) g;
CALL retention.run('truth_orders', '2026-01-01');
SELECT rows, status, rows_left, cause, notes FROM retention.runs WHERE policy_id = :ord ORDER BY run_id DESC LIMIT 1;

-- 4. Self-referencing foreign keys: a thread of expired replies goes in one
--    run; a live reply keeps the post it answers (counted as blocked), also
--    through ON DELETE CASCADE, which would otherwise take the live reply along.
CREATE TABLE truth_posts (id int PRIMARY KEY, parent int REFERENCES truth_posts ON DELETE RESTRICT, at timestamptz);
INSERT INTO truth_posts VALUES (1, NULL, '2020-01-01'), (2, 1, '2020-01-02'), (3, 2, '2020-01-03'),
  (4, 3, '2020-01-04'), (5, 4, '2020-01-05'),
  (10, NULL, '2020-01-01'), (11, 10, '2025-12-30'),
  (20, NULL, '2020-01-01'), (21, 20, '2020-01-01');
UPDATE truth_posts SET parent = 21 WHERE id = 20;   -- a cycle of two expired posts
SELECT retention.add_policy('truth_posts', '1 year', 'at') AS truth_posts \gset
CALL retention.run('truth_posts', '2026-01-01');
SELECT rows, blocked, status, rows_left FROM retention.runs WHERE policy_id = :truth_posts;
SELECT id FROM truth_posts ORDER BY id;
CREATE TABLE truth_replies (id int PRIMARY KEY, parent int REFERENCES truth_replies ON DELETE CASCADE, at timestamptz);
INSERT INTO truth_replies VALUES (1, NULL, '2020-01-01'), (2, 1, '2025-12-30'), (3, NULL, '2020-01-01'), (4, 3, '2020-01-02');
SELECT retention.add_policy('truth_replies', '1 year', 'at') AS truth_replies \gset
SELECT rows_due, rows_blocked FROM retention.preview('2026-01-01') WHERE policy_id = :truth_replies;
CALL retention.run('truth_replies', '2026-01-01');
SELECT rows, blocked, status FROM retention.runs WHERE policy_id = :truth_replies;
SELECT id FROM truth_replies ORDER BY id;

RESET ROLE;
DROP TABLE truth_tenant_notes, truth_accounts, truth_orders, truth_orders_history, truth_orders_log, truth_posts, truth_replies;
DROP FUNCTION truth_soft_delete(), truth_keep_email(), truth_orders_keep();
SELECT retention.drop_policy(policy_id) FROM retention.policies;
REVOKE CREATE ON SCHEMA public FROM rt_truth_app;
DROP ROLE rt_truth_app;
