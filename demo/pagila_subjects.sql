-- pg_retention demo on Pagila: a data subject's access request, erasure and legal hold.
\set ON_ERROR_STOP on
\pset footer off
SELECT retention.add_subject('customer', 'customer', 'customer_id') AS "add_subject('customer', ...)";
\echo '-- the tables that hold a customer''s rows, found from the foreign keys (retention.subject_graph)'
SELECT tbl, relation, depth, via FROM retention.subject_graph ORDER BY erase_order;
\echo '-- access request for customer 7: retention.subject_data(''customer'', ''7''), by table'
SELECT t->>'table' AS "table", t->>'relation' AS relation, t->>'count' AS rows, t->'personal_columns' AS personal_columns
  FROM jsonb_array_elements(retention.subject_data('customer', '7')->'tables') t;
\echo '-- erasure of customer 7: payments are kept (anonymized), rentals and the customer go'
SELECT * FROM retention.erase_subject('customer', '7');
SELECT count(*) AS payments_kept_anonymized FROM payment WHERE customer_id IS NULL;
\echo '-- a legal hold on customer 8: their erasure waits'
SELECT retention.hold('customer', '8', 'court order 2026/17') AS hold_id \gset
SELECT * FROM retention.erase_subject('customer', '8');
SELECT status, waiting_for FROM retention.erasures ORDER BY requested_at;
\echo '-- releasing the hold carries the erasure out'
SELECT retention.release(:hold_id);
SELECT status, rows, left(subject_hash, 16) AS subject FROM retention.erasures ORDER BY requested_at;
