-- Data subjects: the graph, access requests, legal holds, erasure and its ledger
SET timezone = 'UTC';
SELECT setval('retention.policy_catalog_policy_id_seq', 4000) IS NOT NULL AS ids_pinned;
CREATE SCHEMA shop;
CREATE TABLE shop.addresses (address_id int PRIMARY KEY, street text NOT NULL, city text);
CREATE TABLE shop.customers (customer_id int PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                             address_id int REFERENCES shop.addresses, closed_at timestamptz);
CREATE TABLE shop.orders (order_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES shop.customers,
                          ordered_at timestamptz NOT NULL, ship_to text);
CREATE TABLE shop.order_lines (order_id int REFERENCES shop.orders ON DELETE CASCADE, line int,
                               item text, PRIMARY KEY (order_id, line));
-- invoices are kept for the tax authority: their link to the order can be cut
CREATE TABLE shop.invoices (invoice_id int PRIMARY KEY, order_id int REFERENCES shop.orders,
                            billed_to text, amount numeric NOT NULL, issued_at timestamptz NOT NULL);
CREATE TABLE shop.weblog (at timestamptz NOT NULL, cust text, path text);   -- no foreign key
INSERT INTO shop.addresses SELECT g, 'Street ' || g, 'City' FROM generate_series(1, 5) g;
INSERT INTO shop.addresses VALUES (99, 'Shared Hall 1', 'City');
INSERT INTO shop.customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com',
       CASE WHEN g <= 3 THEN g ELSE 99 END, NULL FROM generate_series(1, 5) g;
INSERT INTO shop.orders SELECT g, 1 + g % 5, timestamptz '2022-01-01' + g * interval '1 day', 'Ship ' || g
  FROM generate_series(1, 20) g;
INSERT INTO shop.order_lines SELECT o, l, 'item ' || l FROM generate_series(1, 20) o, generate_series(1, 2) l;
INSERT INTO shop.invoices SELECT g, g, 'Customer ' || (1 + g % 5), 10 * g, timestamptz '2022-01-01' + g * interval '1 day'
  FROM generate_series(1, 20) g;
INSERT INTO shop.weblog SELECT timestamptz '2022-01-01' + g * interval '1 hour', (1 + g % 5)::text, '/p/' || g
  FROM generate_series(1, 50) g;
SELECT retention.tag('shop.customers', 'name', 'name');
SELECT retention.tag('shop.customers', 'email', 'email', 'pseudonym');
SELECT retention.tag('shop.addresses', 'street', 'address');
SELECT retention.tag('shop.orders', 'ship_to', 'address', 'null');
SELECT retention.tag('shop.invoices', 'billed_to', 'name', 'constant(anonymous)');
SELECT retention.tag('shop.invoices', 'order_id', 'other', 'null');

-- declaring a kind: the key must identify one row
SELECT retention.add_subject('customer', 'shop.customers', 'name');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_subject('customer', 'shop.customers', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_subject(' customer', 'shop.customers', 'customer_id');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.add_subject('customer', 'shop.customers', 'customer_id');
SELECT retention.add_subject('customer', 'shop.customers', 'customer_id');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.link_subject('customer', 'shop.weblog', 'cust');
SELECT retention.link_subject('customer', 'shop.weblog', 'at');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.link_subject('vendor', 'shop.weblog', 'cust');
\echo :LAST_ERROR_SQLSTATE
SELECT kind, tbl, key, links FROM retention.subjects;
-- the graph, found from the catalog: chains, a manual link, the referenced address
SELECT tbl, relation, depth, via, link_columns, erase_order FROM retention.subject_graph ORDER BY erase_order;

-- an access request: every row of the subject, grouped by table, with the personal columns
SELECT t->>'table' AS tbl, t->>'relation' AS relation, (t->>'count')::int AS rows,
       t->'personal_columns' AS personal_columns
  FROM jsonb_array_elements(retention.subject_data('customer', '2')->'tables') t;
SELECT (SELECT count(*) FROM shop.orders WHERE customer_id = 2) AS orders,
       (SELECT count(*) FROM shop.order_lines l JOIN shop.orders o USING (order_id) WHERE o.customer_id = 2) AS lines,
       (SELECT count(*) FROM shop.weblog WHERE cust = '2') AS weblog;
SELECT retention.subject_data('customer', '2')->'tables'->0->'rows' AS customer_row;
SELECT retention.subject_data('customer', 'two');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.subject_data('vendor', '2');
\echo :LAST_ERROR_SQLSTATE

-- who may: superusers and members of retention_officer
CREATE ROLE retention_clerk;
SET ROLE retention_clerk;
SELECT retention.subject_data('customer', '2');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM retention.erase_subject('customer', '2');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold('customer', '2', 'curious');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT retention_officer TO retention_clerk;
SET ROLE retention_clerk;
SELECT jsonb_array_length(retention.subject_data('customer', '2')->'tables') AS tables_seen_by_officer;
RESET ROLE;

-- legal holds: on a subject and on a table
SELECT retention.hold('customer', '3', '') ;
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold('customer', '3', 'court order 17/2026', '2001-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT retention.hold('customer', '003', 'court order 17/2026') AS h3 \gset
SELECT retention.hold_table('shop.weblog', 'police request 4') AS hw \gset
SELECT kind, id, tbl, reason, until, active FROM retention.holds ORDER BY hold_id;
-- a delete policy on orders skips the held customer's orders (and says so)
SELECT retention.add_policy('shop.orders', '30 days', 'ordered_at') AS pol \gset
SELECT rows_due, rows_on_hold, rows_blocked FROM retention.preview('2022-12-31');
SELECT rows_overdue, rows_blocked, rows_on_hold FROM retention.status;
CALL retention.run('shop.orders', '2022-12-31');
SELECT customer_id, count(*) FROM shop.orders GROUP BY 1 ORDER BY 1;
SELECT rows, held, status FROM retention.runs WHERE policy_id = :pol;
SELECT retention.drop_policy(:pol);

-- erasure of a held subject is pending: nothing changes
SELECT * FROM retention.erase_subject('customer', '3');
SELECT count(*) AS customer_3 FROM shop.customers WHERE customer_id = 3;
SELECT kind, subject_hash, status, rows, cardinality(waiting_for) AS waiting FROM retention.erasures;
-- releasing the holds carries it out, in the same transaction
SELECT retention.release(:h3);
SELECT count(*) AS still_pending FROM retention.erasures WHERE status = 'pending';
SELECT retention.release(:hw);
SELECT status, rows FROM retention.erasures;
SELECT (SELECT count(*) FROM shop.customers WHERE customer_id = 3) AS customer,
       (SELECT count(*) FROM shop.weblog WHERE cust = '3') AS weblog,
       (SELECT count(*) FROM shop.addresses WHERE address_id = 3) AS own_address;
SELECT retention.release(:hw);
\echo :LAST_ERROR_SQLSTATE

-- an erasure where a policy keeps the rows: invoices are anonymized, and their link to the
-- order cut, so that the orders can go; the shared address stays
SELECT retention.add_policy('shop.invoices', '7 years', 'issued_at', 'anonymize') AS inv \gset
SELECT * FROM retention.erase_subject('customer', '4');
SELECT invoice_id, order_id, billed_to, amount FROM shop.invoices
 WHERE invoice_id IN (SELECT invoice_id FROM shop.invoices WHERE billed_to = 'anonymous') ORDER BY 1;
SELECT (SELECT count(*) FROM shop.customers WHERE customer_id = 4) AS customer,
       (SELECT count(*) FROM shop.orders WHERE customer_id = 4) AS orders,
       (SELECT count(*) FROM shop.addresses WHERE address_id = 99) AS shared_address;
-- others are untouched; a second erasure finds nothing
SELECT count(*) AS customers, (SELECT count(*) FROM shop.orders) AS orders FROM shop.customers;
SELECT coalesce(sum(rows), 0) AS again FROM retention.erase_subject('customer', '4');
-- an unknown id is not an error
SELECT coalesce(sum(rows), 0) AS unknown FROM retention.erase_subject('customer', '12345');
-- the audit trail names no subject by its id
SELECT event, details ? 'subject' AS names_subject, details::text LIKE '%"4"%' AS has_raw_id
  FROM retention.audit WHERE event LIKE 'erasure%' OR event IN ('hold', 'subject_access') ORDER BY seq;
-- and its entries chain (the trail as a whole was tampered with on purpose in 07_audit)
SELECT bool_and(b.prev_hash = a.hash) AS chained FROM retention.audit a JOIN retention.audit b ON b.seq = a.seq + 1
 WHERE a.seq >= (SELECT min(seq) FROM retention.audit WHERE event = 'subject_added');
SELECT retention.drop_policy(:inv);
SELECT retention.drop_subject('customer');
SELECT count(*) AS kinds FROM retention.subjects;
DROP SCHEMA shop CASCADE;
REVOKE retention_officer FROM retention_clerk;
DROP ROLE retention_clerk;
