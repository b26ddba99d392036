# Data subjects on Pagila, with customer as the kind: an access request holds
# exactly the customer's rentals, payments and address; an erasure deletes the
# rentals, anonymizes the payments a policy keeps, and touches nobody else; a
# legal hold makes policies and erasure skip the customer until it is
# released, which completes the pending erasure; and erasures are replayed
# after a restore from an older dump.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my ($node, $dir) = pagila_keyed('subjects');
my $q = sub { $node->safe_psql('pagila', shift) };

$q->(q{
	SELECT retention.tag('customer', 'first_name', 'name');
	SELECT retention.tag('customer', 'last_name', 'name');
	SELECT retention.tag('customer', 'email', 'email', 'pseudonym');
	SELECT retention.tag('address', 'address', 'address');
	SELECT retention.tag('address', 'phone', 'phone');
	SELECT retention.add_subject('customer', 'customer', 'customer_id');
});

# the graph from the catalog: rentals and payments own rows of a customer, the address is theirs
is($q->(q{SELECT string_agg(tbl::text || ':' || relation, ',' ORDER BY erase_order) FROM retention.subject_graph}),
	'payment:owned,rental:owned,customer:subject,address:referenced', 'subject graph of customer');

# an access request for customer 7 (MARIA MILLER)
my %truth = (
	rental  => $q->('SELECT count(*) FROM rental WHERE customer_id = 7'),
	payment => $q->('SELECT count(*) FROM payment WHERE customer_id = 7'),
);
my $doc = q{(SELECT retention.subject_data('customer', '7') AS d) s, jsonb_array_elements(s.d->'tables') t};
is($q->("SELECT t->>'count' FROM $doc WHERE t->>'table' = 'public.rental'"), $truth{rental},
	"access: all $truth{rental} rentals");
is($q->("SELECT jsonb_array_length(t->'rows') FROM $doc WHERE t->>'table' = 'public.payment'"), $truth{payment},
	"access: all $truth{payment} payments");
is($q->("SELECT t->'rows'->0->>'address' FROM $doc WHERE t->>'table' = 'public.address'"),
	$q->('SELECT a.address FROM address a JOIN customer c USING (address_id) WHERE c.customer_id = 7'),
	'access: the address');
is($q->("SELECT t->'rows'->0->>'first_name' || ' ' || (t->'personal_columns'->>'email')
          FROM $doc WHERE t->>'table' = 'public.customer'"), 'MARIA email', 'access: name, with categories');
is($q->(q{SELECT count(*) FILTER (WHERE details->>'subject' ~ '^[0-9a-f]{64}$' AND details::text NOT LIKE '%MARIA%')
                   || '/' || count(*) FROM retention.audit WHERE event = 'subject_access'}), '4/4',
	'each access is audited by a keyed hash, without personal data');

# payments are kept seven years for the tax authority, anonymized; their link to the
# customer and the rental can be cut (the migration a shop makes to keep them)
$q->(q{
	ALTER TABLE payment ALTER COLUMN customer_id DROP NOT NULL, ALTER COLUMN rental_id DROP NOT NULL;
	SELECT retention.tag('payment', 'customer_id', 'other', 'null');
	SELECT retention.tag('payment', 'rental_id', 'other', 'null');
	SELECT retention.add_policy('payment', '7 years', 'payment_date', 'anonymize',
	                            basis => 'tax records: 7 years');
});
my %before = (
	rentals  => $q->('SELECT count(*) FROM rental WHERE customer_id <> 7'),
	payments => $q->('SELECT count(*) FROM payment'),
	others   => $q->('SELECT md5(string_agg(p::text, \',\' ORDER BY payment_id)) FROM payment p WHERE customer_id <> 7'),
	customers => $q->('SELECT count(*) FROM customer'),
);
my $erased = $q->(q{SELECT string_agg(tbl || ':' || action || ':' || rows, ',') FROM retention.erase_subject('customer', '7')});
like($erased, qr/payment:anonymize:$truth{payment}/, "erasure anonymizes the $truth{payment} payments");
like($erased, qr/rental:delete:$truth{rental}/, "erasure deletes the $truth{rental} rentals");
like($erased, qr/customer:delete:1/, 'erasure deletes the customer');
is($q->('SELECT count(*) FROM customer WHERE customer_id = 7'), 0, 'customer 7 is gone');
is($q->('SELECT count(*) FROM rental WHERE customer_id = 7'), 0, 'their rentals are gone');
is($q->('SELECT count(*) FROM payment WHERE customer_id = 7'), 0, 'no payment names them');
is($q->('SELECT count(*) FROM payment'), $before{payments}, 'every payment is kept');
is($q->('SELECT count(*) FROM payment WHERE customer_id IS NULL AND rental_id IS NULL'), $truth{payment},
	'their payments are anonymized');
is($q->('SELECT count(*) FROM rental WHERE customer_id <> 7'), $before{rentals}, 'other rentals untouched');
is($q->('SELECT md5(string_agg(p::text, \',\' ORDER BY payment_id)) FROM payment p WHERE customer_id <> 7'),
	$before{others}, 'other payments untouched, value for value');
is($q->('SELECT count(*) FROM customer'), $before{customers} - 1, 'other customers untouched');
is($q->(q{SELECT coalesce(sum(rows), 0) FROM retention.erase_subject('customer', '7')}), 0,
	'a second erasure finds nothing');

# a legal hold on customer 8: a rental policy skips their rows, an erasure waits
$q->(q{SELECT retention.add_policy('rental', '90 days', 'return_date')});
my $rentals8 = $q->('SELECT count(*) FROM rental WHERE customer_id = 8');
my $hold = $q->(q{SELECT retention.hold('customer', '8', 'court order 2026/17')});
is($q->(q{SELECT rows_on_hold FROM retention.preview('2023-06-01') WHERE tbl = 'rental'::regclass}),
	$q->(q{SELECT count(*) FROM rental WHERE customer_id = 8 AND return_date < '2023-03-03'}),
	'preview counts the held rentals');
my ($ret, $out, $err) = $node->psql('pagila', q{CALL retention.run('rental', '2023-06-01')});
like($err, qr/on legal hold/, 'the run reports held rows');
is($q->('SELECT count(*) FROM rental WHERE customer_id = 8'), $rentals8, 'a policy skips the held rentals');
is($q->(q{SELECT string_agg(DISTINCT action, ',') FROM retention.erase_subject('customer', '8')}), 'held',
	'the erasure of a held customer is pending');
is($q->('SELECT count(*) FROM customer WHERE customer_id = 8'), 1, 'customer 8 is still there');
is($q->(q{SELECT status FROM retention.erasures ORDER BY requested_at DESC LIMIT 1}), 'pending', 'the ledger says pending');
$q->("SELECT retention.release($hold)");
is($q->('SELECT count(*) FROM customer WHERE customer_id = 8'), 0, 'release completes the pending erasure');
is($q->(q{SELECT status FROM retention.erasures ORDER BY requested_at DESC LIMIT 1}), 'done', 'the ledger says done');

# replay after a restore from an older backup
my $dump = "$dir/older.dump";
command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('pagila'), '-f', $dump ], 'dump (the older backup)');
$q->(q{SELECT * FROM retention.erase_subject('customer', '11'); SELECT * FROM retention.erase_subject('customer', '12')});
my $ledger = $q->('SELECT retention.export_erasures()');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
my ($stdout, $stderr) = run_command([ 'pg_restore', '-d', $node->connstr('restored'), $dump ]);
my $r = sub { $node->safe_psql('restored', shift) };
is($r->('SELECT count(*) FROM customer WHERE customer_id IN (11, 12)'), 2, 'the older backup still has customers 11 and 12');
my %older = map { $_ => $r->("SELECT count(*) FROM $_") } qw(customer rental payment address);
my $rentals11_12 = $r->('SELECT count(*) FROM rental WHERE customer_id IN (11, 12)');
is($r->("SELECT retention.import_erasures('$ledger'::jsonb)"), 2, 'the two newer ledger entries are imported');
is($r->(q{SELECT string_agg(result, ',' ORDER BY result) FROM retention.replay_erasures()}), 'erased,erased',
	'replay erases both subjects');
is($r->('SELECT count(*) FROM customer WHERE customer_id IN (11, 12)'), 0, 'customers 11 and 12 are gone again');
is($r->('SELECT count(*) FROM customer'), $older{customer} - 2, 'no other customer changed');
is($r->('SELECT count(*) FROM rental'), $older{rental} - $rentals11_12, 'only their rentals went');
is($r->('SELECT count(*) FROM payment'), $older{payment}, 'payments are kept (anonymized)');
is($r->(q{SELECT count(*) FROM retention.replay_erasures()}), 0, 'a second replay does nothing');
is($r->(q{SELECT count(*) FROM retention.erasures WHERE applied_here IS NULL}), 0, 'every entry applied here');
is($r->('SELECT ok FROM retention.verify_audit()'), 't', 'the restored audit chain verifies');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the live audit chain verifies');

$node->stop;
done_testing();
