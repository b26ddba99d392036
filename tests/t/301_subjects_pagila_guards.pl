# Erasure guards on Pagila with two kinds of data subject, customer and staff:
# a hold on a staff member holds the rentals and payments they handled, so a
# customer's erasure waits for it and is completed by its release; the ended
# hold forgets the staff member's id; a replay with another key leaves the
# entries waiting instead of calling the subjects absent, and the right key
# then erases them.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my ($node, $dir) = pagila_keyed('subject_guards');
my $q = sub { $node->safe_psql('pagila', shift) };

$q->(q{
	SELECT retention.tag('customer', 'first_name', 'name');
	SELECT retention.tag('customer', 'email', 'email', 'pseudonym');
	SELECT retention.tag('staff', 'first_name', 'name');
	SELECT retention.tag('address', 'address', 'address');
	SELECT retention.add_subject('customer', 'customer', 'customer_id');
	SELECT retention.add_subject('staff', 'staff', 'staff_id');
});

# a customer whose rentals were handled by staff member 2 (and some by 1)
my $cust = $q->(q{SELECT min(customer_id) FROM rental r WHERE staff_id = 2
                   AND EXISTS (SELECT 1 FROM rental s WHERE s.customer_id = r.customer_id AND s.staff_id = 1)});
my $rentals = $q->("SELECT count(*) FROM rental WHERE customer_id = $cust");
ok($rentals > 0, "customer $cust has $rentals rentals");

# a hold on staff member 2 (an inquiry into their work) covers those rentals: the erasure waits
my $staff = $q->('SELECT count(*) FROM staff');
my $hold = $q->(q{SELECT retention.hold('staff', '2', 'labour court inquiry 2026/5')});
is($q->("SELECT string_agg(DISTINCT action, ',') FROM retention.erase_subject('customer', '$cust')"), 'held',
	'the erasure of a customer whose rentals a staff hold covers is pending');
is($q->("SELECT count(*) FROM rental WHERE customer_id = $cust"), $rentals, 'their rentals are all still there');
is($q->(q{SELECT waiting_for::text FROM retention.erasures WHERE status = 'pending'}), "{$hold}",
	'the ledger says which hold it waits for');

# releasing the staff hold completes the erasure, and the hold forgets staff member 2
$q->("SELECT retention.release($hold)");
is($q->("SELECT count(*) FROM customer WHERE customer_id = $cust"), 0, 'release completes the pending erasure');
is($q->("SELECT count(*) FROM rental WHERE customer_id = $cust"), 0, 'with the rentals');
is($q->(q{SELECT count(*) FROM retention.erasures WHERE status = 'pending'}), 0, 'nothing is pending');
is($q->("SELECT coalesce(id, '(none)') || '/' || active FROM retention.holds WHERE hold_id = $hold"), '(none)/false',
	'the ended hold no longer names staff member 2');
is($q->(q{SELECT count(*) FROM staff}), $staff, 'the staff members themselves are untouched');

# a payment belongs to the customer it names, not to the customer of the rental it pays
# for: in Pagila some rentals of one customer were paid by another
$q->(q{
	ALTER TABLE payment ALTER COLUMN customer_id DROP NOT NULL, ALTER COLUMN rental_id DROP NOT NULL;
	SELECT retention.tag('payment', 'customer_id', 'other', 'null');
	SELECT retention.tag('payment', 'rental_id', 'other', 'null');
	SELECT retention.add_policy('payment', '7 years', 'payment_date', 'anonymize');
});
my ($renter, $payer) = split /\|/, $q->(q{SELECT r.customer_id, p.customer_id FROM payment p JOIN rental r USING (rental_id)
                                           WHERE p.customer_id <> r.customer_id ORDER BY p.payment_id LIMIT 1});
ok($renter && $payer, "customer $payer paid for a rental of customer $renter");
my $own = $q->("SELECT count(*) FROM payment WHERE customer_id = $renter");
is($q->(qq{SELECT t->>'count' FROM jsonb_array_elements(retention.subject_data('customer', '$renter')->'tables') t
            WHERE t->>'table' = 'public.payment'}), $own, "the access request of $renter holds exactly their $own payments");
my $renter_name = $q->("SELECT first_name FROM customer WHERE customer_id = $renter");
my $payer_rows = $q->("SELECT md5(string_agg(p::text, ',' ORDER BY payment_id)) FROM payment p WHERE customer_id = $payer");
my $others_paid = $q->("SELECT count(DISTINCT r.rental_id) FROM rental r JOIN payment p USING (rental_id)
                        WHERE r.customer_id = $renter AND p.customer_id <> $renter");
like($q->("SELECT string_agg(tbl || ':' || action || ':' || rows, ',') FROM retention.erase_subject('customer', '$renter')"),
	qr/payment:anonymize:$own/, "the erasure of $renter anonymizes their $own payments only");
is($q->("SELECT md5(string_agg(p::text, ',' ORDER BY payment_id)) FROM payment p WHERE customer_id = $payer"), $payer_rows,
	"customer $payer's payments are untouched, value for value");
is($q->("SELECT count(*) FROM rental WHERE customer_id = $renter"), $others_paid,
	"only the $others_paid rentals others paid for stay (their payments still reference them)");
is($q->("SELECT first_name <> '$renter_name' AND retention.is_pseudonym(first_name) FROM customer WHERE customer_id = $renter"),
	't', 'the customer row those rentals still reference stays, its name a pseudonym');

# replay with another key: the entries stay waiting; with the right key they apply
my $dump = "$dir/older.dump";
command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('pagila'), '-f', $dump ], 'dump (the older backup)');
$q->(q{SELECT * FROM retention.erase_subject('customer', '21'); SELECT * FROM retention.erase_subject('customer', '22')});
my $ledger = $q->(q{SELECT jsonb_agg(e) FROM jsonb_array_elements(retention.export_erasures()) e
                     WHERE e->>'status' = 'done' AND (e->>'requested_at')::timestamptz > now() - interval '1 minute'});
$node->safe_psql('postgres', 'CREATE DATABASE restored');
run_command([ 'pg_restore', '-d', $node->connstr('restored'), $dump ]);
my $r = sub { $node->safe_psql('restored', shift) };
is($r->('SELECT count(*) FROM customer WHERE customer_id IN (21, 22)'), 2, 'the older backup has customers 21 and 22');
ok($r->("SELECT retention.import_erasures('$ledger'::jsonb)") >= 2, 'the newer entries are imported');
$r->("SELECT retention.create_key('$dir/other.key')");
my ($ret, $out, $err) = $node->psql('restored', qq{SET retention.key_file = '$dir/other.key';
	SELECT string_agg(DISTINCT result, ',') FROM retention.replay_erasures()});
is($out, 'wrong_key', 'with another key the replay applies nothing');
like($err, qr/recorded with another pseudonymization key/, 'and says why');
is($r->('SELECT count(*) FROM customer WHERE customer_id IN (21, 22)'), 2, 'customers 21 and 22 are still there');
is($r->(q{SELECT count(*) FROM retention.erasures WHERE applied_here IS NULL}) >= 2 ? 1 : 0, 1,
	'the entries still wait');
like($r->(q{SELECT string_agg(DISTINCT result, ',') FROM retention.replay_erasures()}), qr/erased/,
	'with the key they were recorded with, the replay erases');
is($r->('SELECT count(*) FROM customer WHERE customer_id IN (21, 22)'), 0, 'customers 21 and 22 are gone again');
is($r->('SELECT ok FROM retention.verify_audit()'), 't', 'the restored audit chain verifies');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the live audit chain verifies');

$node->stop;
done_testing();
