# A legal hold that ends by its until time, with no release: the worker's next
# pass carries out the erasure that waited for it, and the expired hold forgets
# the subject's id; a hold that is still active keeps its id.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $node = sched_node('hold_expiry', "retention.key_file = '$dir/retention.key'");
$node->safe_psql('postgres', 'CREATE DATABASE shop');
my $q = sub { $node->safe_psql('shop', shift) };
$q->(q{
	CREATE EXTENSION pg_retention;
	SELECT retention.create_key();
	CREATE TABLE customers (id int PRIMARY KEY, name text);
	CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, at timestamptz);
	INSERT INTO customers SELECT g, 'Customer ' || g FROM generate_series(1, 3) g;
	INSERT INTO orders SELECT g, 1 + g % 3, now() FROM generate_series(1, 30) g;
	SELECT retention.tag('customers', 'name', 'name');
	SELECT retention.add_subject('customer', 'customers', 'id');
});

my $short = $q->(q{SELECT retention.hold('customer', '1', 'inquiry ending soon', now() + interval '3 seconds')});
my $long = $q->(q{SELECT retention.hold('customer', '2', 'open court case')});
is($q->(q{SELECT string_agg(DISTINCT action, ',') FROM retention.erase_subject('customer', '1')}), 'held',
	'the erasure of customer 1 waits for the hold');
is($q->(q{SELECT string_agg(DISTINCT action, ',') FROM retention.erase_subject('customer', '2')}), 'held',
	'the erasure of customer 2 waits for the hold');
is($q->("SELECT id FROM retention.holds WHERE hold_id = $short"), '1', 'the active hold names its subject');

my $took = poll_until($node, 'shop', q{SELECT count(*) FROM customers WHERE id = 1}, '0', 60);
ok(defined $took, 'the worker carries out the erasure once the hold has expired, without a release');
is($q->('SELECT count(*) FROM orders WHERE customer_id = 1'), 0, 'with the orders');
is($q->(q{SELECT string_agg(status, ',' ORDER BY requested_at) FROM retention.erasures}), 'done,pending',
	'the ledger: the first done, the second still pending');
ok(defined poll_until($node, 'shop', "SELECT id IS NULL FROM retention.holds WHERE hold_id = $short", 't', 30),
	'the expired hold forgets customer 1');
is($q->("SELECT id || '/' || active FROM retention.holds WHERE hold_id = $long"), '2/true',
	'the active hold still names customer 2');
is($q->('SELECT count(*) FROM customers WHERE id = 2'), 1, 'and customer 2 is still there');
is($q->(q{SELECT count(*) FROM retention.audit WHERE event = 'erasure_completed' AND details::text LIKE '%"1"%'}), 0,
	'the audit names no subject by id');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the audit chain verifies');

$node->stop;
done_testing();
