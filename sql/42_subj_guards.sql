-- Erasure guards: a deletion never cascades into rows that are kept, held or another
-- subject's; holds of every kind stop an erasure; ended holds forget the subject's id;
-- replay refuses entries of another key; a run's error quotes no value.
SET timezone = 'UTC';
SET client_min_messages = warning;
SELECT setval('retention.policy_catalog_policy_id_seq', 4200) IS NOT NULL AS ids_pinned;
CREATE SCHEMA guard;
CREATE TABLE guard.addresses (address_id int PRIMARY KEY, street text NOT NULL);
CREATE TABLE guard.couriers (courier_id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE guard.customers (customer_id int PRIMARY KEY, name text NOT NULL,
                              address_id int REFERENCES guard.addresses);
-- not part of any subject: a delivery point and a store that use the same addresses
CREATE TABLE guard.deliveries (delivery_id int PRIMARY KEY,
                               address_id int REFERENCES guard.addresses ON DELETE CASCADE);
CREATE TABLE guard.stores (store_id int PRIMARY KEY,
                           address_id int REFERENCES guard.addresses ON DELETE SET NULL);
CREATE TABLE guard.orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES guard.customers,
                           courier_id int REFERENCES guard.couriers, ship_to text);
-- receipts are kept (anonymize policy) but their key would cascade them away with the order
CREATE TABLE guard.receipts (receipt_id int PRIMARY KEY,
                             order_id int NOT NULL REFERENCES guard.orders ON DELETE CASCADE,
                             billed_to text, issued_at timestamptz NOT NULL);
-- a row of two customers at once
CREATE TABLE guard.transfers (transfer_id int PRIMARY KEY,
                              from_customer int NOT NULL REFERENCES guard.customers ON DELETE CASCADE,
                              to_customer int NOT NULL REFERENCES guard.customers ON DELETE CASCADE);
-- comment threads: replies cascade with the comment they answer
CREATE TABLE guard.comments (comment_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES guard.customers,
                             parent_id int REFERENCES guard.comments ON DELETE CASCADE, body text);
INSERT INTO guard.addresses SELECT g, 'Street ' || g FROM generate_series(1, 9) g;
INSERT INTO guard.couriers VALUES (7, 'Courier Seven'), (8, 'Courier Eight');
INSERT INTO guard.customers SELECT g, 'Customer ' || g, g FROM generate_series(1, 9) g;
INSERT INTO guard.deliveries VALUES (1, 4);
INSERT INTO guard.stores VALUES (1, 2);
INSERT INTO guard.orders SELECT g, g, CASE WHEN g = 6 THEN 7 ELSE 8 END, 'Ship ' || g FROM generate_series(1, 9) g;
INSERT INTO guard.receipts VALUES (1, 1, 'Customer 1', '2024-01-01'), (7, 7, 'Customer 7', '2024-01-01');
INSERT INTO guard.transfers VALUES (1, 4, 5), (2, 4, 1);
INSERT INTO guard.comments VALUES (1, 3, NULL, 'first'), (2, 3, 1, 'own reply'), (3, 3, 2, 'own reply again'),
                                  (4, 2, 1, 'reply by customer 2'), (5, 3, NULL, 'alone'), (6, 8, NULL, 'other');
SELECT retention.tag('guard.customers', 'name', 'name');
SELECT retention.tag('guard.addresses', 'street', 'address');
SELECT retention.tag('guard.orders', 'ship_to', 'address', 'null');
SELECT retention.tag('guard.receipts', 'billed_to', 'name', 'constant(anonymous)');
SELECT retention.tag('guard.comments', 'body', 'other', 'constant(removed)');
SELECT retention.tag('guard.couriers', 'name', 'name');
SELECT retention.add_subject('customer', 'guard.customers', 'customer_id');
SELECT retention.add_subject('courier', 'guard.couriers', 'courier_id');
SELECT retention.add_policy('guard.receipts', '10 years', 'issued_at', 'anonymize') AS receipts_policy \gset
-- a key, so that erasures can wait and be replayed
SELECT 'pg_retention_42_' || pg_backend_pid() || '_' || extract(epoch FROM clock_timestamp())::bigint || '.key'
       AS key_path \gset
SELECT length(retention.create_key(:'key_path')) > 0 AS key_created;
SET retention.key_file = :'key_path';

-- 1. the kept receipt is anonymized; its key would cascade it away with the order, so the
--    order stays (masked), and the customer row the order references stays (masked) too
SELECT tbl, action, rows FROM retention.erase_subject('customer', '1') ORDER BY tbl::text, action;
SELECT r.billed_to, o.ship_to, c.name = 'Customer 1' AS name_left, c.address_id
  FROM guard.receipts r JOIN guard.orders o USING (order_id) JOIN guard.customers c USING (customer_id)
 WHERE r.receipt_id = 1;
-- the transfer shared with customer 4 went with customer 1 (no hold on 4)
SELECT transfer_id FROM guard.transfers ORDER BY 1;

-- 2. a shared address referenced through ON DELETE SET NULL stays: the store keeps it
SELECT tbl, action, rows FROM retention.erase_subject('customer', '2') ORDER BY tbl::text, action;
SELECT address_id FROM guard.stores;
SELECT count(*) AS address_2 FROM guard.addresses WHERE address_id = 2;
-- customer 2's reply to customer 3 was theirs: gone
SELECT comment_id, customer_id, parent_id, body FROM guard.comments ORDER BY 1;

-- 3. the subject's own comments that answer each other all go (each reference is the
--    subject's own); an address nothing else uses goes with its customer
SELECT tbl, action, rows FROM retention.erase_subject('customer', '3') ORDER BY tbl::text, action;
SELECT comment_id, customer_id, parent_id, body FROM guard.comments ORDER BY 1;
SELECT (SELECT count(*) FROM guard.addresses WHERE address_id = 3) AS address_3,
       (SELECT count(*) FROM guard.customers WHERE customer_id = 3) AS customer_3;

-- 4. a hold on customer 5 holds the transfer customer 4 shares with them: 4's erasure waits
SELECT retention.hold('customer', '5', 'dispute 12') AS hold_5 \gset
SELECT tbl, action, rows FROM retention.erase_subject('customer', '4') ORDER BY tbl::text, action;
SELECT status, waiting_for = ARRAY[:hold_5]::bigint[] AS waits_for_5 FROM retention.erasures WHERE status = 'pending';
SELECT (SELECT count(*) FROM guard.customers WHERE customer_id = 4) AS customer_4,
       (SELECT count(*) FROM guard.transfers) AS transfers;
SELECT retention.release(:hold_5);
SELECT status, rows FROM retention.erasures WHERE kind = 'customer' ORDER BY requested_at DESC LIMIT 1;
SELECT (SELECT count(*) FROM guard.customers WHERE customer_id = 4) AS customer_4,
       (SELECT count(*) FROM guard.customers WHERE customer_id = 5) AS customer_5,
       (SELECT count(*) FROM guard.transfers) AS transfers;
-- customer 4's address is used by a delivery (ON DELETE CASCADE): it stays, and the delivery
SELECT (SELECT count(*) FROM guard.addresses WHERE address_id = 4) AS address_4,
       (SELECT count(*) FROM guard.deliveries) AS deliveries;
-- the released hold no longer names customer 5
SELECT kind, id, active FROM retention.holds WHERE hold_id = :hold_5;

-- 5. a hold on courier 7 (another kind) holds customer 6's order that courier carried
SELECT retention.hold('courier', '7', 'accident inquiry') AS hold_c7 \gset
SELECT tbl, action, rows FROM retention.erase_subject('customer', '6') ORDER BY tbl::text, action;
SELECT count(*) AS order_6 FROM guard.orders WHERE order_id = 6;
SELECT retention.release(:hold_c7);
SELECT status, rows FROM retention.erasures WHERE kind = 'customer' ORDER BY requested_at DESC LIMIT 1;
SELECT (SELECT count(*) FROM guard.customers WHERE customer_id = 6) AS customer_6,
       (SELECT count(*) FROM guard.orders WHERE order_id = 6) AS order_6,
       (SELECT count(*) FROM guard.couriers) AS couriers;

-- 6. without a key, an erasure that would wait for someone else's hold is refused (55000):
--    the ledger could never find the subject again; nothing is recorded
RESET retention.key_file;
SELECT retention.hold('courier', '8', 'audit of courier 8') AS hold_c8 \gset
SELECT count(*) AS ledger_before FROM retention.erasures \gset
SELECT * FROM retention.erase_subject('customer', '7');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) - :ledger_before AS new_entries, (SELECT count(*) FROM guard.customers WHERE customer_id = 7) AS customer_7
  FROM retention.erasures;
-- with a hold on the subject itself it can wait: the hold keeps the id while the erasure needs it
SELECT retention.hold('customer', '7', 'tax inquiry') AS hold_7 \gset
SELECT tbl, action, rows FROM retention.erase_subject('customer', '7') ORDER BY tbl::text, action;
SELECT retention.release(:hold_7);
SELECT kind, id, active FROM retention.holds WHERE hold_id = :hold_7;
SELECT count(*) AS customer_7 FROM guard.customers WHERE customer_id = 7;
-- the last hold ends, but customer 7's kept receipt keeps the customer row, whose name mask
-- (a pseudonym) needs the key: the release goes through, the erasure stays pending
-- (a WARNING names the erasure), and still knows its subject
SET client_min_messages = error;
SELECT retention.release(:hold_c8);
SET client_min_messages = warning;
SELECT kind, id, active FROM retention.holds WHERE hold_id IN (:hold_7, :hold_c8) ORDER BY hold_id;
SELECT count(*) AS customer_7 FROM guard.customers WHERE customer_id = 7;
SELECT count(*) AS pending FROM retention.erasures WHERE status = 'pending';
-- with the key back, a replay carries it out and the hold forgets customer 7
SET retention.key_file = :'key_path';
SELECT count(*) AS entries_from_elsewhere FROM retention.replay_erasures();
RESET retention.key_file;
SELECT name = 'Customer 7' AS name_left, (SELECT count(*) FROM retention.erasures WHERE status = 'pending') AS pending
  FROM guard.customers WHERE customer_id = 7;
SELECT kind, id, active FROM retention.holds WHERE hold_id = :hold_7;
-- an active hold keeps its id; the check still wants one for it
SELECT retention.hold('customer', '9', 'open case') AS hold_9 \gset
SELECT kind, id, active FROM retention.holds WHERE hold_id = :hold_9;
\set VERBOSITY terse
UPDATE retention.hold_catalog SET subject_id = NULL WHERE hold_id = :hold_9;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SELECT retention.release(:hold_9);

-- 7. replay refuses an entry recorded with another key: it stays waiting, never "absent"
SET retention.key_file = :'key_path';
SELECT retention.import_erasures(jsonb_build_array(jsonb_build_object(
         'erasure_id', '00000000-0000-0000-0000-000000000042', 'kind', 'customer',
         'subject_hash', repeat('ab', 32), 'key_fingerprint', 'not-this-key',
         'requested_at', '2026-01-01', 'requested_by', 'someone', 'status', 'done',
         'completed_at', '2026-01-01', 'rows', 3))) AS imported;
SET client_min_messages = error;   -- the WARNING names this database's key fingerprint
SELECT kind, result, rows FROM retention.replay_erasures();
SET client_min_messages = warning;
SELECT status, applied_here IS NULL AS still_waiting FROM retention.erasures
 WHERE erasure_id = '00000000-0000-0000-0000-000000000042';
RESET retention.key_file;

-- 8. a run's error names no value: a data exception's quoted value is left out
CREATE TABLE guard.visits (visit_id int PRIMARY KEY, email text, at timestamptz NOT NULL);
INSERT INTO guard.visits VALUES (1, 'jane@example.com', '2020-01-01');
CREATE FUNCTION guard.visits_check() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN PERFORM OLD.email::int; RETURN OLD; END$$;
CREATE TRIGGER visits_check BEFORE DELETE ON guard.visits FOR EACH ROW EXECUTE FUNCTION guard.visits_check();
SELECT retention.add_policy('guard.visits', '30 days', 'at') AS visits_policy \gset
CALL retention.run('guard.visits');
\echo :LAST_ERROR_SQLSTATE
SELECT status, error LIKE '%jane%' AS names_value, error FROM retention.runs WHERE policy_id = :visits_policy;
SELECT count(*) AS audit_names_value FROM retention.audit WHERE details::text LIKE '%jane%';

SELECT retention.drop_policy(:receipts_policy);
SELECT retention.drop_policy(:visits_policy);
SELECT retention.drop_subject('customer');
SELECT retention.drop_subject('courier');
DROP SCHEMA guard CASCADE;

-- 9. a row reached by two paths is the subject's its nearest set link names: another
--    customer's reply to A's comment is theirs, not A's; it still points at A's comment,
--    which therefore stays (ON DELETE SET NULL would change B's row), and so does A's row;
--    an anonymous reply (no customer) is A's through the thread, and goes
CREATE SCHEMA guard2;
SET retention.key_file = :'key_path';
CREATE TABLE guard2.customers (customer_id int PRIMARY KEY, name text);
CREATE TABLE guard2.comments (comment_id int PRIMARY KEY, customer_id int REFERENCES guard2.customers,
                              parent_id int REFERENCES guard2.comments ON DELETE SET NULL, body text);
INSERT INTO guard2.customers VALUES (1, 'A'), (2, 'B');
INSERT INTO guard2.comments VALUES (1, 1, NULL, 'A root'), (2, 2, 1, 'B reply to A'), (3, 2, NULL, 'B own'),
                                   (4, NULL, 1, 'anonymous reply to A');
SELECT retention.add_subject('g2cust', 'guard2.customers', 'customer_id');
SELECT t->>'table' AS tbl, t->>'count' AS rows
  FROM jsonb_array_elements(retention.subject_data('g2cust', '1')->'tables') t ORDER BY 1;
SELECT tbl, action, rows FROM retention.erase_subject('g2cust', '1') ORDER BY tbl::text, action;
SELECT comment_id, customer_id, parent_id, body FROM guard2.comments ORDER BY 1;

-- 10. a key whose equal values print differently: the erasure's token is the stored key's
CREATE TABLE guard2.members (member_no numeric PRIMARY KEY, name text);
INSERT INTO guard2.members VALUES (7.00, 'Seven'), (8, 'Eight');
SELECT retention.add_subject('member', 'guard2.members', 'member_no');
SELECT tbl, action, rows FROM retention.erase_subject('member', '7');
-- the same entry replayed on the row as it was (7.00) finds it
INSERT INTO guard2.members VALUES (7.00, 'Seven');
UPDATE retention.erasure_ledger SET applied_here = NULL WHERE kind = 'member';
SELECT kind, result, rows FROM retention.replay_erasures();
SELECT count(*) AS member_7 FROM guard2.members WHERE member_no = 7;
-- no hold being active, the replay erased its subjects in one pass: one audit entry names them
SELECT event, rows, jsonb_array_length(details->'erasure_ids') AS erasures,
       details->'subjects'->>0 ~ '^[0-9a-f]{64}$' AS subject_token
  FROM retention.audit WHERE event = 'erasures_replayed' ORDER BY seq DESC LIMIT 1;
-- a hold by '7.0' holds the member stored as 7.00
INSERT INTO guard2.members VALUES (7.00, 'Seven');
SELECT retention.hold('member', '7.0', 'inquiry') AS hold_m7 \gset
SELECT id FROM retention.holds WHERE hold_id = :hold_m7;
SELECT DISTINCT action FROM retention.erase_subject('member', '7');
SELECT retention.release(:hold_m7);
SELECT count(*) AS member_7 FROM guard2.members WHERE member_no = 7;

-- 11. an entry imported while still pending where it was made is not carried out here;
--     a later import that says done applies it
SELECT retention.import_erasures(jsonb_build_array(jsonb_build_object(
         'erasure_id', '00000000-0000-0000-0000-0000000000a8', 'kind', 'member',
         'subject_hash', (SELECT subject_hash FROM retention.erasures WHERE kind = 'member' LIMIT 1),
         'key_fingerprint', retention.key_fingerprint(),
         'requested_at', '2026-01-01', 'requested_by', 'someone', 'status', 'pending', 'rows', 0))) AS imported;
INSERT INTO guard2.members VALUES (7.00, 'Seven');
SELECT kind, result, rows FROM retention.replay_erasures() WHERE erasure_id = '00000000-0000-0000-0000-0000000000a8';
SELECT count(*) AS member_7 FROM guard2.members WHERE member_no = 7;
SELECT retention.import_erasures(jsonb_build_array(jsonb_build_object(
         'erasure_id', '00000000-0000-0000-0000-0000000000a8', 'kind', 'member',
         'subject_hash', (SELECT subject_hash FROM retention.erasures WHERE kind = 'member' LIMIT 1),
         'key_fingerprint', retention.key_fingerprint(),
         'requested_at', '2026-01-01', 'requested_by', 'someone', 'status', 'done',
         'completed_at', '2026-01-02', 'rows', 1))) AS completed;
SELECT kind, result, rows FROM retention.replay_erasures() WHERE erasure_id = '00000000-0000-0000-0000-0000000000a8';
SELECT count(*) AS member_7 FROM guard2.members WHERE member_no = 7;

-- 12. an entry of a kind not declared here waits (WARNING); the others are applied
SELECT retention.import_erasures(jsonb_build_array(jsonb_build_object(
         'erasure_id', '00000000-0000-0000-0000-0000000000b1', 'kind', 'gone_kind',
         'subject_hash', repeat('ab', 32), 'key_fingerprint', retention.key_fingerprint(),
         'requested_at', '2026-01-01', 'requested_by', 'x', 'status', 'done',
         'completed_at', '2026-01-01', 'rows', 1))) AS imported;
SET client_min_messages = error;
SELECT kind, result, rows FROM retention.replay_erasures() ORDER BY kind;
SET client_min_messages = warning;
SELECT applied_here IS NULL AS still_waiting FROM retention.erasures
 WHERE erasure_id = '00000000-0000-0000-0000-0000000000b1';

-- 13. a pending erasure released under another key stays pending (wrong key), not "absent"
SELECT retention.hold_table('guard2.members', 'tax audit') AS hold_t \gset
SELECT DISTINCT action FROM retention.erase_subject('member', '8');
SELECT 'pg_retention_42b_' || pg_backend_pid() || '_' || extract(epoch FROM clock_timestamp())::bigint || '.key'
       AS other_key \gset
SELECT length(retention.create_key(:'other_key')) > 0 AS other_key_created;
SET retention.key_file = :'other_key';
SET client_min_messages = error;
SELECT retention.release(:hold_t);
SET client_min_messages = warning;
SELECT status FROM retention.erasures WHERE kind = 'member' AND requested_at = (SELECT max(requested_at) FROM retention.erasures);
SELECT count(*) AS member_8 FROM guard2.members WHERE member_no = 8;
SET retention.key_file = :'key_path';
SELECT count(*) AS from_elsewhere FROM retention.replay_erasures() WHERE result = 'erased';
SELECT count(*) AS member_8 FROM guard2.members WHERE member_no = 8;

-- 14. a linked text column with values that are no key: they match nobody, no error quotes them
CREATE TABLE guard2.weblog (cust text, path text);
INSERT INTO guard2.weblog VALUES ('2', '/a'), ('jane.doe@example.com', '/b');
SELECT retention.link_subject('g2cust', 'guard2.weblog', 'cust');
SELECT t->>'table' AS tbl, t->>'count' AS rows
  FROM jsonb_array_elements(retention.subject_data('g2cust', '2')->'tables') t ORDER BY 1;
SELECT tbl, action, rows FROM retention.erase_subject('g2cust', '2') ORDER BY tbl::text, action;
SELECT cust FROM guard2.weblog;

-- a link column is a hint next to the foreign keys, never instead of them: a visit that
-- names nobody in its customer_ref but belongs to the customer's order is theirs
CREATE TABLE guard2.orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES guard2.customers);
CREATE TABLE guard2.visits (visit_id int PRIMARY KEY, customer_ref text,
                            order_id int REFERENCES guard2.orders, ip text);
INSERT INTO guard2.customers VALUES (5, 'E');
INSERT INTO guard2.orders VALUES (50, 5);
INSERT INTO guard2.visits VALUES (1, 'e@example.com', 50, '10.0.0.1'), (2, '99', 50, '10.0.0.2'), (3, '5', NULL, '10.0.0.3');
SELECT retention.link_subject('g2cust', 'guard2.visits', 'customer_ref');
SELECT tbl, action, rows FROM retention.erase_subject('g2cust', '5') ORDER BY tbl::text, action;
SELECT count(*) AS visits_left FROM guard2.visits;
-- a link column of another type meets the key through an implicit cast when there is one
-- (int4 to numeric: 7 is the member stored as 7.00), as text otherwise
CREATE TABLE guard2.member_log (member_int int, member_text text, what text);
INSERT INTO guard2.members VALUES (7.00, 'Seven');
INSERT INTO guard2.member_log VALUES (7, NULL, 'by int'), (NULL, '7.00', 'by text as stored'),
                                     (NULL, 'seven', 'no key'), (8, NULL, 'someone else');
SELECT retention.link_subject('member', 'guard2.member_log', 'member_int');
SELECT retention.link_subject('member', 'guard2.member_log', 'member_text');
SELECT tbl, action, rows FROM retention.erase_subject('member', '7') ORDER BY tbl::text, action;
SELECT what FROM guard2.member_log ORDER BY 1;

-- 15. a hold on a table that references the subject's rows from outside the graph (six hops
--     away, ON DELETE SET NULL) makes the erasure wait
CREATE TABLE guard2.c (id int PRIMARY KEY);
CREATE TABLE guard2.t1 (id int PRIMARY KEY, p int REFERENCES guard2.c);
CREATE TABLE guard2.t2 (id int PRIMARY KEY, p int REFERENCES guard2.t1);
CREATE TABLE guard2.t3 (id int PRIMARY KEY, p int REFERENCES guard2.t2);
CREATE TABLE guard2.t4 (id int PRIMARY KEY, p int REFERENCES guard2.t3);
CREATE TABLE guard2.t5 (id int PRIMARY KEY, p int REFERENCES guard2.t4);
CREATE TABLE guard2.t6 (id int PRIMARY KEY, p int REFERENCES guard2.t5 ON DELETE SET NULL);
INSERT INTO guard2.c VALUES (1); INSERT INTO guard2.t1 VALUES (1, 1); INSERT INTO guard2.t2 VALUES (1, 1);
INSERT INTO guard2.t3 VALUES (1, 1); INSERT INTO guard2.t4 VALUES (1, 1); INSERT INTO guard2.t5 VALUES (1, 1);
INSERT INTO guard2.t6 VALUES (1, 1);
SELECT retention.add_subject('chain', 'guard2.c', 'id');
SELECT retention.hold_table('guard2.t6', 'litigation') AS hold_t6 \gset
SELECT DISTINCT action FROM retention.erase_subject('chain', '1');
SELECT p FROM guard2.t6;
SELECT retention.release(:hold_t6);
-- once released, the erasure goes ahead but keeps the chain t6 still points at (SET NULL
-- would change a row outside the subject)
SELECT (SELECT count(*) FROM guard2.c) AS c, (SELECT p FROM guard2.t6) AS t6_link;

-- 16. a kind on a table with inheritance children is refused: the key may repeat there
CREATE TABLE guard2.people (person_id int PRIMARY KEY, name text);
CREATE TABLE guard2.vip_people (note text) INHERITS (guard2.people);
SELECT retention.add_subject('person', 'guard2.people', 'person_id');
\echo :LAST_ERROR_SQLSTATE
-- a key whose only unique index compares under another collation is refused: two rows
-- ('bob@x', 'BOB@x') would be one subject to the erasure's case-insensitive equality
CREATE COLLATION guard2.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE guard2.accounts (email text COLLATE guard2.ci, name text);
CREATE UNIQUE INDEX ON guard2.accounts (email COLLATE "C");
SELECT retention.add_subject('account', 'guard2.accounts', 'email');
\echo :LAST_ERROR_SQLSTATE
-- holds on catalogs, the extension's own tables or a missing relation are refused
SELECT retention.hold_table('pg_class', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold_table('retention.hold_catalog', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold_table(0, 'x');
\echo :LAST_ERROR_SQLSTATE

-- 17. partitions whose own foreign keys on one column point at different tables: each key
--     covers its partition's rows only (sales are customers', shifts are staff members')
CREATE TABLE guard2.staff (id int PRIMARY KEY, name text);
CREATE TABLE guard2.events (eid int, kind text, ref int, note text) PARTITION BY LIST (kind);
CREATE TABLE guard2.ev_sale PARTITION OF guard2.events FOR VALUES IN ('sale');
CREATE TABLE guard2.ev_return PARTITION OF guard2.events FOR VALUES IN ('return');
CREATE TABLE guard2.ev_shift PARTITION OF guard2.events FOR VALUES IN ('shift');
ALTER TABLE guard2.ev_sale ADD FOREIGN KEY (ref) REFERENCES guard2.customers;
ALTER TABLE guard2.ev_return ADD FOREIGN KEY (ref) REFERENCES guard2.customers;
ALTER TABLE guard2.ev_shift ADD FOREIGN KEY (ref) REFERENCES guard2.staff;
INSERT INTO guard2.customers VALUES (6, 'F');
INSERT INTO guard2.staff VALUES (6, 'S6');
INSERT INTO guard2.events VALUES (1, 'sale', 6, 'bought'), (2, 'return', 6, 'returned'),
                                 (3, 'shift', 6, 'staff 6 worked');
SELECT retention.add_subject('g2staff', 'guard2.staff', 'id');
SELECT t->>'table' AS tbl, t->>'count' AS rows
  FROM jsonb_array_elements(retention.subject_data('g2cust', '6')->'tables') t ORDER BY 1;
SELECT tbl, action, rows FROM retention.erase_subject('g2cust', '6') ORDER BY tbl::text, action;
SELECT eid, kind, note FROM guard2.events ORDER BY 1;

-- 18. a key of an array type (no array of it to pass): the replay erases one by one
CREATE TABLE guard2.groups (id int[] PRIMARY KEY, name text);
CREATE TABLE guard2.group_notes (x int PRIMARY KEY, gid int[] REFERENCES guard2.groups, note text);
INSERT INTO guard2.groups VALUES ('{1}', 'a'), ('{2}', 'b'), ('{1,2}', 'c');
INSERT INTO guard2.group_notes VALUES (1, '{1}', 'x'), (2, '{2}', 'y'), (3, '{1,2}', 'z');
SELECT retention.add_subject('grp', 'guard2.groups', 'id');
SELECT tbl, action, rows FROM retention.erase_subject('grp', '{1}') ORDER BY tbl::text;
INSERT INTO guard2.groups VALUES ('{1}', 'a');
INSERT INTO guard2.group_notes VALUES (1, '{1}', 'x');
UPDATE retention.erasure_ledger SET applied_here = NULL WHERE kind = 'grp';
SELECT kind, result, rows FROM retention.replay_erasures() WHERE kind = 'grp';
SELECT id FROM guard2.groups ORDER BY 1;

RESET retention.key_file;
SELECT retention.drop_subject(kind) FROM retention.subjects WHERE kind IN ('g2cust', 'member', 'chain', 'g2staff', 'grp');
DROP SCHEMA guard2 CASCADE;
