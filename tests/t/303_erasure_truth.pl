# Erasures on Pagila that never say done while the customer is still there: a
# soft-delete trigger fails the erasure (rolled back, no ledger entry), and the
# worker leaves a pending erasure pending with a WARNING until the trigger is
# gone; a history trigger's copies fail the erasure while the history table is
# outside the graph and are erased in a further pass once it is linked; rows
# row-level security hides from the owner of rental fail the erasure and the
# access request.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $node = sched_node('erasure_truth', "retention.key_file = '$dir/retention.key'");
load_pagila($node, 'pagila');
my $q = sub { $node->safe_psql('pagila', shift) };
# runs sql with verbose errors; returns psql's exit code and its stderr
my $fails = sub {
	my ($ret, $out, $err) = $node->psql('pagila', "\\set VERBOSITY verbose\n" . shift);
	return ($ret, $err);
};
$q->(q{
	CREATE EXTENSION pg_retention;
	SELECT retention.create_key();
	SELECT retention.tag('customer', 'first_name', 'name');
	SELECT retention.tag('customer', 'last_name', 'name');
	SELECT retention.tag('customer', 'email', 'email');
	SELECT retention.tag('address', 'address', 'address');
	SELECT retention.add_subject('customer', 'customer', 'customer_id');
});
my %rentals = map { $_ => $q->("SELECT count(*) FROM rental WHERE customer_id = $_") } (7, 8, 9, 10);
my %payments = map { $_ => $q->("SELECT count(*) FROM payment WHERE customer_id = $_") } (7, 8, 9, 10);

# 1. a soft delete: customer rows are marked inactive instead of deleted
$q->(q{
	CREATE FUNCTION customer_soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		UPDATE public.customer SET activebool = false, active = 0 WHERE customer_id = OLD.customer_id;
		RETURN NULL;
	END $$;
	CREATE TRIGGER customer_soft_delete BEFORE DELETE ON customer
		FOR EACH ROW EXECUTE FUNCTION customer_soft_delete();
});
my ($ret, $err) = $fails->(q{SELECT * FROM retention.erase_subject('customer', '7')});
isnt($ret, 0, 'the erasure of customer 7 fails');
like($err, qr/ERROR:  RTE01: erasure of a data subject of kind "customer" left 1 row of it in table public\.customer/,
	'RTE01 names the table and the count');
like($err, qr/trigger customer_soft_delete on public\.customer returned NULL for 1 row \(BEFORE DELETE ROW trigger\)/,
	'and the trigger');
is($q->(q{SELECT email || '/' || activebool FROM customer WHERE customer_id = 7}), 'MARIA.MILLER@sakilacustomer.org/true',
	'customer 7 is untouched');
is($q->('SELECT count(*) FROM rental WHERE customer_id = 7'), $rentals{7}, "their $rentals{7} rentals are back");
is($q->('SELECT count(*) FROM payment WHERE customer_id = 7'), $payments{7}, "their $payments{7} payments are back");
is($q->('SELECT count(*) FROM retention.erasures'), 0, 'no ledger entry');
is($q->(q{SELECT count(*) FROM retention.audit WHERE event LIKE 'erasure%'}), 0, 'no audit entry');

# 2. the worker completes a pending erasure only once the subject can really go
my $hold = $q->(q{SELECT retention.hold('customer', '8', 'inquiry ending soon', now() + interval '2 seconds')});
is($q->(q{SELECT string_agg(DISTINCT action, ',') FROM retention.erase_subject('customer', '8')}), 'held',
	'the erasure of customer 8 waits for its hold');
my $address8 = $q->('SELECT address_id FROM customer WHERE customer_id = 8');
my $log_offset = -s $node->logfile;
ok($node->wait_for_log(qr/WARNING:  pending erasure [0-9a-f-]+ could not be carried out now: erasure of a data subject of kind "customer" left 1 row of it in table public\.customer/,
		$log_offset), 'the worker warns that the erasure cannot be carried out');
like(slurp_file($node->logfile, $log_offset), qr/trigger customer_soft_delete on public\.customer returned NULL/,
	'naming the trigger');
is($q->(q{SELECT status FROM retention.erasures}), 'pending', 'the erasure stays pending');
is($q->('SELECT count(*) FROM rental WHERE customer_id = 8'), $rentals{8}, 'and customer 8 keeps their rentals');
$q->('DROP TRIGGER customer_soft_delete ON customer');
ok(defined poll_until($node, 'pagila', 'SELECT count(*) FROM customer WHERE customer_id = 8', '0', 60),
	'with the trigger gone, the worker erases customer 8');
my $address_gone = 1 - $q->("SELECT count(*) FROM address WHERE address_id = $address8");
is($q->(q{SELECT status || '/' || rows FROM retention.erasures}),
	'done/' . (1 + $rentals{8} + $payments{8} + $address_gone), 'the ledger says done, with the rows');

# 3. a history trigger copies deleted customers into customer_history
$q->(q{
	CREATE TABLE customer_history (customer_id int, email text, deleted_at timestamptz DEFAULT now());
	INSERT INTO customer_history (customer_id, email) VALUES (10, 'someone else''s past');
	CREATE FUNCTION customer_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO public.customer_history (customer_id, email) VALUES (OLD.customer_id, OLD.email);
		RETURN OLD;
	END $$;
	CREATE TRIGGER customer_keep_history AFTER DELETE ON customer
		FOR EACH ROW EXECUTE FUNCTION customer_keep_history();
});
($ret, $err) = $fails->(q{SELECT * FROM retention.erase_subject('customer', '9')});
isnt($ret, 0, 'outside the graph, the copy fails the erasure of customer 9');
like($err, qr/ERROR:  RTE02: erasure of a data subject of kind "customer" copied 1 row into table public\.customer_history, which is not part of the subject's graph/,
	'RTE02 names the destination');
like($err, qr/trigger customer_keep_history on public\.customer inserted them/, 'and the trigger');
like($err, qr/retention\.link_subject\('customer', 'public\.customer_history', column\)/, 'the hint says how to link it');
is($q->('SELECT count(*) FROM customer_history'), 1, 'no copy is left');
is($q->('SELECT count(*) FROM rental WHERE customer_id = 9'), $rentals{9}, 'customer 9 keeps their rentals');
$q->(q{SELECT retention.link_subject('customer', 'customer_history', 'customer_id')});
my $erased = $q->(q{SELECT string_agg(tbl || ':' || action || ':' || rows, ',' ORDER BY tbl::text, action)
                      FROM retention.erase_subject('customer', '9')});
like($erased, qr/customer_history:delete:1/, 'linked, a further pass erases the copy');
my $rentals9 = $rentals{9};
like($erased, qr/rental:delete:$rentals9/, "with the $rentals9 rentals");
is($q->('SELECT count(*) FROM customer WHERE customer_id = 9'), 0, 'customer 9 is gone');
is($q->(q{SELECT string_agg(customer_id || ':' || email, ',') FROM customer_history}), q{10:someone else's past},
	'another customer\'s history is untouched');

# 4. row-level security forced on the owner of rental hides unreturned rentals from it
my $customer = $q->('SELECT min(customer_id) FROM rental WHERE return_date IS NULL AND customer_id > 10');
my $open = $q->("SELECT count(*) FROM rental WHERE return_date IS NULL AND customer_id = $customer");
$q->(q{
	DROP TRIGGER customer_keep_history ON customer;
	CREATE ROLE pagila_app;
	GRANT SELECT ON payment TO pagila_app;
	ALTER TABLE rental OWNER TO pagila_app;
	ALTER TABLE rental ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
	CREATE POLICY returned_only ON rental USING (return_date IS NOT NULL);
});
($ret, $err) = $fails->("SELECT retention.subject_data('customer', '$customer')");
isnt($ret, 0, 'the access request fails rather than answer without the hidden rentals');
like($err, qr/ERROR:  RTA01: access request for a data subject of kind "customer" would lack $open rows? of table public\.rental/,
	"RTA01 counts the $open hidden rentals");
like($err, qr/row-level security policy returned_only on public\.rental hides $open rows? of the subject from the table owner/,
	'and names the policy');
($ret, $err) = $fails->("SELECT * FROM retention.erase_subject('customer', '$customer')");
isnt($ret, 0, 'the erasure fails');
like($err, qr/ERROR:  RTE01: .*public\.rental: $open rows? not deleted: row-level security policy returned_only on public\.rental hides $open rows?/s,
	'naming the hidden rentals and the policy');
is($q->("SELECT count(*) FROM customer WHERE customer_id = $customer"), 1, 'the customer is still there');
is($q->(q{SELECT count(*) FROM retention.erasures WHERE status = 'done'}), 2, 'the ledger has only the two real erasures');
$q->('ALTER TABLE rental NO FORCE ROW LEVEL SECURITY');
like($q->(qq{SELECT string_agg(tbl || ':' || action || ':' || rows, ',') FROM retention.erase_subject('customer', '$customer')}),
	qr/rental:delete:\d+/, 'once the owner sees every row, the erasure goes through');
is($q->("SELECT count(*) FROM rental WHERE customer_id = $customer"), 0, 'with every rental');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the audit chain verifies');

$node->stop;
done_testing();
