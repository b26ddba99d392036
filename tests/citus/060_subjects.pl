# Data subjects on Citus: a kind keyed by the distribution column and the customer id
# together (a composite key, written '(tenant,customer)'), a graph of co-located
# distributed tables and a reference table (the address); access requests, erasures,
# legal holds and the ledger (docs/reference.md#data-subjects, docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_subjects');
my $key = "$ENV{CITUS_DIR}/t_subjects.key";
unlink $key;
$c->psql(0, qq{SELECT retention.create_key('$key')});
$c->psql(0, qq{ALTER DATABASE t_subjects SET retention.key_file = '$key'});

$c->psql(0, q{
	CREATE TABLE addresses (address_id int PRIMARY KEY, street text);
	SELECT create_reference_table('addresses');
	CREATE TABLE customers (tenant_id int NOT NULL, customer_id int NOT NULL, name text, email text,
	                        address_id int REFERENCES addresses, PRIMARY KEY (tenant_id, customer_id));
	SELECT create_distributed_table('customers', 'tenant_id', shard_count => 4);
	CREATE TABLE orders (tenant_id int NOT NULL, order_id int NOT NULL, customer_id int NOT NULL, amount int,
	                     PRIMARY KEY (tenant_id, order_id), FOREIGN KEY (tenant_id, customer_id) REFERENCES customers);
	SELECT create_distributed_table('orders', 'tenant_id', colocate_with => 'customers');
	CREATE TABLE payments (tenant_id int NOT NULL, payment_id int NOT NULL, customer_id int NOT NULL, payer text,
	                       paid_at timestamptz NOT NULL, PRIMARY KEY (tenant_id, payment_id),
	                       FOREIGN KEY (tenant_id, customer_id) REFERENCES customers);
	SELECT create_distributed_table('payments', 'tenant_id', colocate_with => 'customers');
	INSERT INTO addresses SELECT g, 'street ' || g::text FROM generate_series(1, 100) g;
	INSERT INTO customers SELECT g % 10, g, 'name ' || g::text, 'c' || g::text || '@example.com', g FROM generate_series(1, 100) g;
	UPDATE customers SET address_id = 41 WHERE customer_id = 42;   -- 41 and 42 share an address
	INSERT INTO orders SELECT c.tenant_id, c.customer_id * 100 + o, c.customer_id, o FROM customers c, generate_series(1, 5) o;
	INSERT INTO payments SELECT c.tenant_id, c.customer_id * 100 + p, c.customer_id, c.name, '2025-01-01'
	  FROM customers c, generate_series(1, 2) p WHERE c.customer_id IN (41, 42);
	SELECT retention.tag('customers', 'name', 'name', 'pseudonym');
	SELECT retention.tag('customers', 'email', 'email');
	SELECT retention.tag('addresses', 'street', 'address');
	SELECT retention.tag('payments', 'payer', 'name', 'pseudonym');
	SELECT retention.add_policy('payments', '7 years', 'paid_at', action => 'anonymize');   -- payments are kept, masked
});

my $err = $c->psql_error(0, q{SELECT retention.add_subject('customer', 'customers', 'customer_id')});
like($err, qr/the key of data subject kind "customer" on distributed table public\.customers must include its distribution column tenant_id/,
	'a key without the distribution column is refused');
like($err, qr/ARRAY\['tenant_id', 'customer_id'\]/, 'with the composite key to declare instead');
$c->psql(0, q{SELECT retention.add_subject('customer', 'customers', ARRAY['tenant_id', 'customer_id'])});
is($c->psql(0, q{SELECT key || ' ' || key_columns::text FROM retention.subjects}), 'tenant_id {tenant_id,customer_id}',
	'the kind has a composite key');
is($c->psql(0, q{SELECT string_agg(tbl || ':' || relation, ' ' ORDER BY erase_order) FROM retention.subject_graph}),
	'orders:owned payments:owned customers:subject addresses:referenced',
	'the graph: co-located distributed tables, and the reference table the subject points at');
is($c->on_every_node(q{SELECT count(*) FROM pg_type WHERE typname = 'customer key'}), '1|1|1', 'the key\'s row type exists on every node');

# an access request
is($c->psql(0, q{SELECT string_agg(t->>'table' || '=' || (t->>'count'), ' ' ORDER BY t->>'table')
                 FROM jsonb_array_elements(retention.subject_data('customer', '(2, 42)')->'tables') t}),
	'public.addresses=1 public.customers=1 public.orders=5 public.payments=2', 'subject_data finds the rows of every table');
$err = $c->psql_error(0, q{SELECT retention.subject_data('customer', '42')});
like($err, qr/malformed record literal/, 'an id that is not a row is refused');

# an erasure: orders deleted; payments kept by their policy and masked; the customer row they
# reference kept and masked (pseudonyms computed on its shard), and so the address it points at
is($c->psql(0, q{SELECT string_agg(tbl || ' ' || action || ' ' || rows, ', ' ORDER BY tbl::text, action) FROM retention.erase_subject('customer', '(2,42)')}),
	'addresses kept 1, customers anonymize 1, customers delete 0, orders delete 5, payments anonymize 2',
	'erase_subject: each table of the graph, kept rows masked');
is($c->psql(0, q{SELECT string_agg(t->>'table' || '=' || (t->>'count'), ' ' ORDER BY t->>'table')
                 FROM jsonb_array_elements(retention.subject_data('customer', '(2,42)')->'tables') t}),
	'public.addresses=1 public.customers=1 public.orders=0 public.payments=2', 'what is left of the subject is what kept rows need');
is($c->psql(0, q{SELECT string_agg((payer = retention.pseudonym('name 42'))::text, ',') FROM payments WHERE customer_id = 42}),
	'true,true', 'the kept payments hold the pseudonym the coordinator computes, made on their shard');
is($c->psql(0, q{SELECT (name = retention.pseudonym('name 42'))::text || ' ' || email FROM customers WHERE customer_id = 42}),
	'true c**@example.com', 'the kept customer row is masked on its shard');
is($c->psql(0, q{SELECT status || ' ' || rows || ' ' || (subject_hash IS NOT NULL) FROM retention.erasures}), 'done 8 true',
	'the ledger has the erasure, by a keyed hash');
is($c->psql(0, q{SELECT string_agg(result, ',') FROM run_command_on_placements('addresses', $$SELECT count(*) FROM %s WHERE address_id = 41$$)}),
	'1,1,1', 'the shared address is on every copy');

is($c->psql(0, q{SELECT string_agg(tbl || ' ' || action || ' ' || rows, ', ' ORDER BY tbl::text, action) FROM retention.erase_subject('customer', '(3,43)')}),
	'addresses delete 1, customers delete 1, orders delete 5, payments anonymize 0',
	'a subject no kept row references: deleted, and its address with it');
is($c->psql(0, q{SELECT string_agg(result, ',') FROM run_command_on_placements('addresses', $$SELECT count(*) FROM %s WHERE address_id = 43$$)}),
	'0,0,0', 'its address is gone from every copy');

# a legal hold: the erasure waits, then completes when the hold ends
my $hold = $c->psql(0, q{SELECT retention.hold('customer', '(1,41)', 'litigation')});
is($c->psql(0, q{SELECT string_agg(tbl || ' ' || action || ' ' || rows, ', ' ORDER BY tbl::text, action) FROM retention.erase_subject('customer', '(1,41)')}),
	'addresses held 1, customers held 1, orders held 5, payments held 2', 'erase_subject of a held subject counts what waits');
is($c->psql(0, q{SELECT status FROM retention.erasures ORDER BY requested_at DESC LIMIT 1}), 'pending', 'the erasure is pending');
is($c->psql(0, q{SELECT count(*) FROM orders WHERE tenant_id = 1 AND customer_id = 41}), '5', 'the held subject\'s rows are untouched');
$c->psql(0, qq{SELECT retention.release($hold)});
is($c->psql(0, q{SELECT status FROM retention.erasures ORDER BY requested_at DESC LIMIT 1}), 'done', 'released: the erasure is done');
is($c->psql(0, q{SELECT count(*) FROM orders WHERE tenant_id = 1 AND customer_id = 41}), '0', 'and the rows are gone');
is($c->psql(0, q{SELECT ok::text FROM retention.verify_audit()}), 'true', 'the audit chain verifies');

$c->psql(0, q{SELECT retention.drop_subject('customer')});
is($c->on_every_node(q{SELECT count(*) FROM pg_type WHERE typname = 'customer key'}), '0|0|0', 'the key\'s row type goes with its kind');
unlink $key;

done_testing();
