-- data subjects with a composite key (docs/reference.md#data-subjects): declared with
-- add_subject(kind, tbl, name[]), ids written as rows '(tenant,account)'; the same on a
-- plain table as on a Citus table distributed by the tenant
CREATE TABLE cmp_accounts (tenant_id int NOT NULL, account_id int NOT NULL, name text, email text,
                           PRIMARY KEY (tenant_id, account_id));
CREATE TABLE cmp_orders (tenant_id int NOT NULL, order_id int NOT NULL, account_id int, total int,
                         PRIMARY KEY (tenant_id, order_id),
                         FOREIGN KEY (tenant_id, account_id) REFERENCES cmp_accounts);
CREATE TABLE cmp_notes (note_id int PRIMARY KEY, tenant_id int, account_id int, body text,
                        FOREIGN KEY (tenant_id, account_id) REFERENCES cmp_accounts);
INSERT INTO cmp_accounts SELECT t, a, 'name ' || t || '/' || a, 'u' || t || a || '@example.com'
  FROM generate_series(1, 3) t, generate_series(1, 4) a;
INSERT INTO cmp_orders SELECT t, a * 10 + o, a, o FROM generate_series(1, 3) t, generate_series(1, 4) a, generate_series(1, 2) o;
INSERT INTO cmp_notes SELECT row_number() OVER (), t, a, 'note' FROM generate_series(1, 3) t, generate_series(1, 4) a;
SELECT retention.tag('cmp_accounts', 'name', 'name');
SELECT retention.tag('cmp_accounts', 'email', 'email');
-- declaration errors
SELECT retention.add_subject('account', 'cmp_accounts', ARRAY['tenant_id']::name[]);
SELECT retention.add_subject('account', 'cmp_accounts', ARRAY['tenant_id', 'tenant_id']::name[]);
SELECT retention.add_subject('account', 'cmp_accounts', ARRAY['tenant_id', 'nosuch']::name[]);
SELECT retention.add_subject('account', 'cmp_accounts', ARRAY['tenant_id', 'name']::name[]);
SELECT retention.add_subject('account', 'cmp_accounts', ARRAY['tenant_id', NULL]::name[]);
SELECT retention.add_subject(repeat('k', 60), 'cmp_accounts', ARRAY['tenant_id', 'account_id']::name[]);
-- the columns of the primary key: a key (its row type's fields in the order given)
SELECT retention.add_subject('account', 'cmp_accounts', ARRAY['tenant_id', 'account_id']);
SELECT kind, tbl, key, key_columns FROM retention.subjects WHERE kind = 'account';
SELECT format_type(key_type, NULL) FROM retention.subject_catalog WHERE kind = 'account';
SELECT kind, tbl, relation, link_columns FROM retention.subject_graph WHERE kind = 'account' ORDER BY erase_order;
SELECT retention.link_subject('account', 'cmp_notes', 'account_id');
-- ids are rows
SELECT t->>'table' AS tbl, t->>'count' AS rows FROM jsonb_array_elements(retention.subject_data('account', '(2,3)')->'tables') t;
SELECT retention.subject_data('account', '2');
SELECT t->>'count' AS rows FROM jsonb_array_elements(retention.subject_data('account', '( 2 , 3 )')->'tables') t LIMIT 1;
-- a hold, then the erasure waits; released, it is carried out
SELECT retention.hold('account', '(2,3)', 'dispute') AS hold_id \gset
SELECT tbl, action, rows FROM retention.erase_subject('account', '(2,3)') ORDER BY tbl::text;
SELECT status FROM retention.erasures WHERE kind = 'account';
SELECT count(*) FROM cmp_orders WHERE tenant_id = 2 AND account_id = 3;
SELECT retention.release(:hold_id);
SELECT status, rows FROM retention.erasures WHERE kind = 'account';
SELECT count(*) FROM cmp_orders WHERE tenant_id = 2 AND account_id = 3;
-- only that account: the same account id of another tenant stays
SELECT tenant_id, count(*) FROM cmp_orders WHERE account_id = 3 GROUP BY 1 ORDER BY 1;
SELECT tbl, action, rows FROM retention.erase_subject('account', '(3,1)') ORDER BY tbl::text;
SELECT count(*) FROM cmp_accounts;
-- dropping the kind drops its key type
SELECT retention.drop_subject('account');
SELECT count(*) FROM pg_type WHERE typname = 'account key';
-- the node form of the pseudonym mask (Citus shards) computes only for the engine or a
-- role that may call retention.pseudonym(); a grant needs this node's key first
CREATE ROLE cmp_app;
GRANT USAGE ON SCHEMA retention TO cmp_app;
SET ROLE cmp_app;
SELECT retention.mask_pseudonym_node('alice@example.com');
SET retention.node_grant = 'abc:0123456789abcdef0123456789abcdef';
SELECT retention.mask_pseudonym_node('alice@example.com');
RESET retention.node_grant;
RESET ROLE;
DROP OWNED BY cmp_app;
DROP ROLE cmp_app;
DROP TABLE cmp_notes, cmp_orders, cmp_accounts;
