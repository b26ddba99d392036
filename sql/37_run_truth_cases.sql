-- What a run's check afterwards makes of ordinary schemas and of the cases an
-- adversarial review found (docs/operations.md "What pg_retention checks after
-- each run and erasure"): no false alarm where every row is explained, no
-- success where expired personal data stays.
SET client_min_messages = warning;
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 3700) IS NOT NULL AS ids_pinned;
CREATE SCHEMA rtc;
SET search_path = rtc, public;
SET client_min_messages = notice;

-- 1. orders <- order_line (ON DELETE CASCADE) <- invoice_line (NO ACTION): the two
--    orders still needed through their lines are blocked, and the run is a success
CREATE TABLE orders (id int PRIMARY KEY, placed_at timestamptz NOT NULL);
CREATE TABLE order_line (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders ON DELETE CASCADE);
CREATE TABLE invoice_line (id int PRIMARY KEY, order_line_id int NOT NULL REFERENCES order_line);
INSERT INTO orders SELECT g, '2020-01-01' FROM generate_series(1, 10) g;
INSERT INTO order_line SELECT g, g FROM generate_series(1, 10) g;
INSERT INTO invoice_line VALUES (1, 1), (2, 2);
SELECT retention.add_policy('orders', '1 year', 'placed_at') AS p1 \gset
CALL retention.run('orders', '2026-12-01');
SELECT rows, blocked, refused, status, rows_left FROM retention.runs WHERE policy_id = :p1;

-- 2. a referencing table of another owner, which the table's owner cannot read
CREATE ROLE rtc_shop;
CREATE ROLE rtc_billing;
CREATE TABLE accounts (id int PRIMARY KEY, email text, closed_at timestamptz);
ALTER TABLE accounts OWNER TO rtc_shop;
GRANT USAGE ON SCHEMA rtc TO rtc_shop, rtc_billing;
GRANT REFERENCES ON accounts TO rtc_billing;
CREATE TABLE invoices (id int PRIMARY KEY, account_id int REFERENCES accounts);
ALTER TABLE invoices OWNER TO rtc_billing;
INSERT INTO accounts SELECT g, 'u' || g || '@x.org', '2020-01-01' FROM generate_series(1, 10) g;
INSERT INTO invoices VALUES (1, 1), (2, 2);
SELECT retention.add_policy('accounts', '1 year', 'closed_at') AS p2 \gset
CALL retention.run('accounts', '2026-12-01');
SELECT rows, blocked, refused, status, rows_left FROM retention.runs WHERE policy_id = :p2;

-- 3. row-level security ENABLED (not forced) on a partition another role owns: it binds
--    the policy table's owner, as whom the engine reads: hidden, incomplete
CREATE ROLE rtc_app;
CREATE ROLE rtc_ops;
GRANT USAGE ON SCHEMA rtc TO rtc_app, rtc_ops;
CREATE TABLE events (id int, at timestamptz NOT NULL, email text) PARTITION BY RANGE (at);
ALTER TABLE events OWNER TO rtc_app;
CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE events_2020 OWNER TO rtc_app;
ALTER TABLE events_2026 OWNER TO rtc_ops;
GRANT ALL ON events_2026 TO rtc_app;
ALTER TABLE events_2026 ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_recent ON events_2026 USING (at > '2026-06-01');
INSERT INTO events SELECT g, '2020-06-01', 'a@x.org' FROM generate_series(1, 5) g;
INSERT INTO events SELECT g, '2026-01-15', 'b@x.org' FROM generate_series(6, 10) g;
SELECT retention.add_policy('events', '30 days', 'at') AS p3 \gset
SELECT tbl, rows_due, rows_hidden FROM retention.preview('2026-12-01') WHERE policy_id = :p3;
CALL retention.run('events', '2026-12-01');
SELECT rows, status, rows_left, cause FROM retention.runs WHERE policy_id = :p3;

-- 4. an audit trigger keeping the whole old row as jsonb: the e-mail lives on there
CREATE TABLE customers (id int PRIMARY KEY, email text, closed_at timestamptz);
SELECT retention.tag('customers', 'email', 'email');
CREATE TABLE audit_log (id bigserial PRIMARY KEY, tbl text, op text, old_row jsonb, at timestamptz DEFAULT now());
CREATE FUNCTION rtc_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO rtc.audit_log(tbl, op, old_row) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(OLD)); RETURN OLD; END $$;
CREATE TRIGGER audit AFTER DELETE ON customers FOR EACH ROW EXECUTE FUNCTION rtc_audit();
INSERT INTO customers SELECT g, 'user' || g || '@example.org', '2020-01-01' FROM generate_series(1, 3) g;
SELECT retention.add_policy('customers', '1 year', 'closed_at') AS p4 \gset
CALL retention.run('customers', '2026-12-01');
SELECT rows, status, rows_left, cause FROM retention.runs WHERE policy_id = :p4;

-- 5. no trigger on the policy's table, but its ON DELETE CASCADE child keeps a history
CREATE TABLE members (id int PRIMARY KEY, closed_at timestamptz);
CREATE TABLE contacts (id int PRIMARY KEY, member_id int REFERENCES members ON DELETE CASCADE, email text);
SELECT retention.tag('contacts', 'email', 'email');
CREATE TABLE contacts_history (id int, member_id int, email text, deleted_at timestamptz DEFAULT now());
CREATE FUNCTION rtc_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO rtc.contacts_history(id, member_id, email) VALUES (OLD.id, OLD.member_id, OLD.email); RETURN OLD; END $$;
CREATE TRIGGER keep_history AFTER DELETE ON contacts FOR EACH ROW EXECUTE FUNCTION rtc_keep_history();
INSERT INTO members SELECT g, '2020-01-01' FROM generate_series(1, 3) g;
INSERT INTO contacts SELECT g, g, 'user' || g || '@example.org' FROM generate_series(1, 3) g;
SELECT retention.add_policy('members', '1 year', 'closed_at') AS p5 \gset
CALL retention.run('members', '2026-12-01');
SELECT rows, status, rows_left, cause FROM retention.runs WHERE policy_id = :p5;

-- 6. a trigger that switches session_replication_role off the engine's pin: the batch
--    is refused (39P01) instead of leaving the contacts' e-mails behind, orphaned
CREATE TABLE clients (id int PRIMARY KEY, closed_at timestamptz);
CREATE TABLE client_contacts (id int PRIMARY KEY, client_id int NOT NULL REFERENCES clients ON DELETE CASCADE, email text);
CREATE FUNCTION rtc_flip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_catalog.set_config('session_replication_role', 'replica', false); RETURN OLD; END $$;
CREATE TRIGGER flip BEFORE DELETE ON clients FOR EACH ROW EXECUTE FUNCTION rtc_flip();
INSERT INTO clients SELECT g, '2020-01-01' FROM generate_series(1, 5) g;
INSERT INTO client_contacts SELECT g, g, 'u' || g || '@x.org' FROM generate_series(1, 5) g;
SELECT retention.add_policy('clients', '1 year', 'closed_at') AS p6 \gset
CALL retention.run('clients', '2026-12-01');
\echo :LAST_ERROR_SQLSTATE
SHOW session_replication_role;
SELECT rows, status FROM retention.runs WHERE policy_id = :p6;
SELECT count(*) AS orphaned_contacts FROM client_contacts c WHERE NOT EXISTS (SELECT 1 FROM clients a WHERE a.id = c.client_id);

-- 7. generalize() with a step finer than the column keeps: refused when tagged
CREATE TABLE measurements (id int PRIMARY KEY, at timestamptz, weight numeric(6,1));
SELECT retention.tag('measurements', 'weight', 'other', 'generalize(0.25)');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.tag('measurements', 'weight', 'other', 'generalize(0.5)');

-- 8. preview of an infinite as_of
SELECT count(*) FROM retention.preview('infinity');
\echo :LAST_ERROR_SQLSTATE

-- 9. row-level security forced on the owner lets it see expired rows but not lock or
--    change them: never "success" with the rows counted as locked by someone else
CREATE TABLE rls_nodel (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO rls_nodel SELECT g, '2020-01-01' FROM generate_series(1, 30) g;
ALTER TABLE rls_nodel ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY see ON rls_nodel FOR SELECT USING (true);
ALTER TABLE rls_nodel OWNER TO rtc_app;
CREATE TABLE rls_del_false (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO rls_del_false SELECT g, '2020-01-01' FROM generate_series(1, 20) g;
ALTER TABLE rls_del_false ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY see ON rls_del_false FOR SELECT USING (true);
CREATE POLICY lock ON rls_del_false FOR UPDATE USING (true);
CREATE POLICY keep_odd ON rls_del_false FOR DELETE USING (id % 2 = 0);
ALTER TABLE rls_del_false OWNER TO rtc_app;
CREATE TABLE rls_noupd (id int PRIMARY KEY, email text, at timestamptz NOT NULL);
INSERT INTO rls_noupd SELECT g, 'u' || g || '@example.org', '2020-01-01' FROM generate_series(1, 10) g;
SELECT retention.tag('rls_noupd', 'email', 'email', 'email');
ALTER TABLE rls_noupd ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY see ON rls_noupd FOR SELECT USING (true);
CREATE POLICY upd ON rls_noupd FOR UPDATE USING (false);
ALTER TABLE rls_noupd OWNER TO rtc_app;
SELECT retention.add_policy('rls_nodel', '1 year', 'at') AS p9a \gset
SELECT retention.add_policy('rls_del_false', '1 year', 'at') AS p9b \gset
SELECT retention.add_policy('rls_noupd', '1 year', 'at', 'anonymize') AS p9c \gset
CALL retention.run('rls_nodel', '2026-12-01');
\echo :LAST_ERROR_SQLSTATE
CALL retention.run('rls_del_false', '2026-12-01');
\echo :LAST_ERROR_SQLSTATE
CALL retention.run('rls_noupd', '2026-12-01');
\echo :LAST_ERROR_SQLSTATE
SELECT p.tbl, r.status, r.rows, r.skipped_locked, r.refused, r.rows_left, r.cause
  FROM retention.runs r JOIN retention.policies p USING (policy_id)
 WHERE r.policy_id IN (:p9a, :p9b, :p9c) ORDER BY r.policy_id;
SELECT (SELECT count(*) FROM rls_nodel) AS nodel_left, (SELECT count(*) FROM rls_del_false) AS del_false_left,
       (SELECT count(*) FROM rls_noupd WHERE email LIKE 'u%') AS noupd_unmasked;
-- retention.status counts what row-level security hides from the owner, as preview does
CREATE TABLE rls_hidden (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO rls_hidden SELECT g, '2020-01-01' FROM generate_series(1, 8) g;
ALTER TABLE rls_hidden ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY half ON rls_hidden USING (id <= 4);
ALTER TABLE rls_hidden OWNER TO rtc_app;
SELECT retention.add_policy('rls_hidden', '1 year', 'at') AS p9d \gset
SELECT rows_overdue, rows_hidden, last_status FROM retention.status WHERE policy_id = :p9d;
SELECT rows_due, rows_hidden FROM retention.preview() WHERE policy_id = :p9d;

-- 10. a publication that sends none of the removals: the run says its subscribers keep the rows
CREATE TABLE feed (id int, at timestamptz NOT NULL, email text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE feed_2020 PARTITION OF feed FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE feed_rest PARTITION OF feed FOR VALUES FROM ('2021-01-01') TO ('2040-01-01');
INSERT INTO feed SELECT g, '2020-06-01'::timestamptz + g * interval '1 day', 'u' || g || '@x.org' FROM generate_series(1, 400) g;
SET client_min_messages = error;
CREATE PUBLICATION rtc_feed FOR TABLE feed WITH (publish = 'insert, update, truncate', publish_via_partition_root = true);
SET client_min_messages = notice;
SELECT retention.add_policy('feed', '1 year', 'at') AS p10 \gset
CALL retention.run('feed', '2022-06-01');
SELECT rows, partitions, status, notes FROM retention.runs WHERE policy_id = :p10;
DROP PUBLICATION rtc_feed;

SET client_min_messages = warning;
RESET search_path;
DROP SCHEMA rtc CASCADE;
DROP FUNCTION IF EXISTS rtc_audit(), rtc_keep_history(), rtc_flip();
DROP ROLE rtc_shop;
DROP ROLE rtc_billing;
DROP ROLE rtc_app;
DROP ROLE rtc_ops;
