# The anonymize action on Pagila's customer and address tables, as of a fixed
# time: preview and run agree with plain SQL, exact masked values (pseudonyms
# under a known test key written by this test), Pagila's last_updated trigger
# fires for each anonymized row, and a rerun changes nothing.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $node = new_cluster('anonymize_pagila');
load_pagila($node, 'pagila');
my $q = sub { $node->safe_psql('pagila', shift) };
my $dir = PostgreSQL::Test::Utils::tempdir;

# the known test key of 200_key_file.pl (bytes 00..1f)
open my $fh, '>', "$dir/test.key" or die $!;
print $fh join('', map { sprintf '%02x', $_ } 0 .. 31), "\n";
close $fh;
chmod 0600, "$dir/test.key";
$node->append_conf('postgresql.conf', "retention.key_file = '$dir/test.key'");
$node->reload;
$q->('CREATE EXTENSION pg_retention');
$node->poll_query_until('pagila', "SELECT retention.key_fingerprint() = 'b02d8f2885fe2a16'")
  or die 'the test key is not in use';

# a "last activity" anchor for customers, from their rentals (set with the
# trigger off, so that last_update keeps Pagila's value); a dropped column
# shifts the attribute numbers
$q->(q{ALTER TABLE customer ADD COLUMN scratch int;
       ALTER TABLE customer DROP COLUMN scratch;
       ALTER TABLE customer ADD COLUMN last_rental timestamptz;
       ALTER TABLE customer DISABLE TRIGGER last_updated;
       UPDATE customer c SET last_rental = (SELECT max(rental_date) FROM rental r WHERE r.customer_id = c.customer_id);
       ALTER TABLE customer ENABLE TRIGGER last_updated;});
is($q->(q{SELECT count(*) || '/' || count(DISTINCT last_update) || '/' || min(last_update) FROM customer}),
	'599/1/2022-02-15 09:57:20+00', '599 customers, all last updated 2022-02-15 09:57:20');

$q->(q{SELECT retention.tag('customer', 'first_name', 'name');
       SELECT retention.tag('customer', 'last_name', 'name');
       SELECT retention.tag('customer', 'email', 'email');
       SELECT retention.tag('address', 'address', 'address');
       SELECT retention.tag('address', 'address2', 'address');
       SELECT retention.tag('address', 'district', 'address');
       SELECT retention.tag('address', 'postal_code', 'postal_code');
       SELECT retention.tag('address', 'phone', 'phone');});
is($q->(q{SELECT string_agg(table_name || '.' || column_name || '=' || mask, ' ' ORDER BY table_name, column_name)
            FROM retention.personal_columns}),
	'address.address=constant(***) address.address2=constant(***) address.district=constant(***) '
	  . 'address.phone=phone address.postal_code=partial(3,0) customer.email=email '
	  . 'customer.first_name=pseudonym customer.last_name=pseudonym',
	'tags with the categories\' default masks');

my $p_customer = $q->(
	"SELECT retention.add_policy('customer', interval '10 days', 'last_rental', 'anonymize', basis => 'inactive customers')");
my $p_address = $q->(
	"SELECT retention.add_policy('address', interval '7 days', 'last_update', 'anonymize', batch_size => 250)");

# customers: as of 2022-09-01, those whose last rental is before 2022-08-22
my $as_of = "timestamptz '2022-09-01 00:00+00'";
my $expired = $q->("SELECT count(*) FROM customer WHERE last_rental < $as_of - interval '10 days'");
is($expired, 72, '72 customers last rented before 2022-08-22');
is($q->("SELECT rows_due || '/' || rows_undated FROM retention.preview($as_of) WHERE policy_id = $p_customer"),
	'72/0', 'preview: 72 customers due, none undated');
my $started = $q->('SELECT now()');
my ($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('customer', $as_of)");
is($ret, 0, 'the customer run succeeds');
like($err, qr/policy $p_customer on public\.customer: 72 rows anonymized in 1 batch;/, 'it reports 72 rows');
is($q->("SELECT rows || '/' || batches || '/' || status FROM retention.runs WHERE policy_id = $p_customer"),
	'72/1/success', 'the run record holds the same counts');

# sampled exact values: MARIA MILLER (last rental 2022-08-21) is masked,
# MARY SMITH (2022-08-22 19:03) is not
is($q->('SELECT first_name || \' \' || last_name || \' \' || email FROM customer WHERE customer_id = 7'),
	'ps:09f3c16e0d59f55a01058326 ps:47c97bdf0c174780c8ff5aba M***********@sakilacustomer.org',
	'customer 7: names pseudonymized (known answers), e-mail masked');
is($q->('SELECT first_name || \' \' || last_name FROM customer WHERE customer_id = 9'),
	'ps:99920558cd3ea7cbe228c357 ps:842790d857fc21f63ca9afee', 'customer 9: known pseudonyms');
is($q->("SELECT first_name = retention.pseudonym('MARIA') FROM customer WHERE customer_id = 7"), 't',
	'the stored pseudonym is retention.pseudonym() of the original');
is($q->('SELECT first_name || \' \' || last_name || \' \' || email FROM customer WHERE customer_id = 1'),
	'MARY SMITH MARY.SMITH@sakilacustomer.org', 'customer 1, active until 2022-08-22, is untouched');
is($q->("SELECT count(*) FROM customer WHERE last_rental < $as_of - interval '10 days'
          AND retention.is_pseudonym(first_name) AND retention.is_pseudonym(last_name)
          AND email = retention.mask_email(email) AND email LIKE '_%*\@sakilacustomer.org'"),
	72, 'every expired customer is fully masked');
is($q->("SELECT count(*) FROM customer WHERE last_rental >= $as_of - interval '10 days'
          AND NOT retention.is_pseudonym(first_name) AND email NOT LIKE '%*%'"),
	527, 'the other 527 are untouched');
is($q->("SELECT count(DISTINCT first_name || last_name) FROM customer WHERE last_rental < $as_of - interval '10 days'"),
	72, 'distinct customers keep distinct pseudonymized names');

# Pagila's last_updated trigger fired once for each masked row, and only there
is($q->("SELECT count(*) FROM customer WHERE last_update >= '$started'"), 72,
	'last_updated fired for the 72 anonymized customers');
is($q->("SELECT count(*) FROM customer WHERE last_update = '2022-02-15 09:57:20+00'"), 527,
	'and for no other customer');

# a rerun changes nothing: same values, no trigger
$q->('CREATE TABLE customer_before AS SELECT * FROM customer');
($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('customer', $as_of)");
like($err, qr/policy $p_customer on public\.customer: 0 rows anonymized in 0 batches/, 'a rerun anonymizes nothing');
is($q->('SELECT count(*) FROM (SELECT * FROM customer EXCEPT SELECT * FROM customer_before) d'), 0,
	'and changes no value, not even last_update');
is($q->("SELECT rows_due FROM retention.preview($as_of) WHERE policy_id = $p_customer"), 0, 'nothing is due any more');

# addresses: all 603 were last updated 2022-02-15, so all are due a week later
my $as_of_a = "timestamptz '2022-03-01 00:00+00'";
is($q->("SELECT rows_due FROM retention.preview($as_of_a) WHERE policy_id = $p_address"), 603, 'preview: 603 addresses due');
($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('address', $as_of_a)");
like($err, qr/policy $p_address on public\.address: 603 rows anonymized in 3 batches/, '603 addresses in 3 batches of 250');
is($q->(q{SELECT concat_ws('|', address, address2, district, postal_code, phone) FROM address WHERE address_id = 5}),
	'***|***|***|352**|283****4290', 'address 5 (1913 Hanoi Way, 35200, 28303384290) masked');
is($q->(q{SELECT concat_ws('|', address, coalesce(address2, 'NULL'), district, postal_code, phone) FROM address WHERE address_id = 1}),
	'***|NULL|***||', 'address 1: NULL stays NULL, empty strings stay empty');
is($q->(q{SELECT phone FROM address WHERE address_id = 605}), '288*****5394', 'a 12-digit phone keeps 3 + 4 digits');
is($q->("SELECT count(*) FROM address WHERE last_update >= '$started'"), 603,
	'last_updated fired for every address');
is($q->('SELECT count(*) FROM customer c JOIN address a USING (address_id)'), 599,
	'every customer still has its address (keys are not masked)');

# a rerun as of a year later, when every address has expired again, changes nothing
$q->('CREATE TABLE address_before AS SELECT * FROM address');
($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('address', now() + interval '1 year')");
like($err, qr/policy $p_address on public\.address: 0 rows anonymized in 0 batches/,
	'a rerun with every address expired anonymizes nothing');
is($q->('SELECT count(*) FROM (SELECT * FROM address EXCEPT SELECT * FROM address_before) d'), 0,
	'and changes no value');

is($q->("SELECT string_agg(rows::text, ',' ORDER BY run_id) FROM retention.runs"), '72,0,603,0', 'four runs recorded');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the audit chain verifies');

$node->stop;
done_testing();
