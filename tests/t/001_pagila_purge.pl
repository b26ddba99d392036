# A delete policy on Pagila's rental table: preview and run agree with plain SQL,
# rentals that payments still reference are counted as blocked and stay, a second
# run deletes nothing, and the run record says so.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $node = new_cluster('pagila_purge');
load_pagila($node, 'pagila');
$node->safe_psql('pagila', 'CREATE EXTENSION pg_retention');

my $as_of = "timestamptz '2022-08-01 00:00+00'";
my $cut = "$as_of - interval '30 days'";
my $q = sub { $node->safe_psql('pagila', shift) };

# the truth, by plain SQL: a rental is needed while any payment names it
my $total = $q->('SELECT count(*) FROM rental');
my $expired = $q->("SELECT count(*) FROM rental WHERE return_date < $cut");
my $referenced = $q->("SELECT count(*) FROM rental r WHERE return_date < $cut
                        AND EXISTS (SELECT 1 FROM payment p WHERE p.rental_id = r.rental_id)");
my $undated = $q->('SELECT count(*) FROM rental WHERE return_date IS NULL');
is($total, 16044, 'Pagila has 16044 rentals');
cmp_ok($expired, '>', 3000, "$expired rentals returned before the cutoff");

$q->("SELECT retention.add_policy('rental', interval '30 days', 'return_date')");
is($q->("SELECT rows_due || '/' || rows_blocked || '/' || rows_undated FROM retention.preview($as_of)"),
	"$expired/$referenced/$undated", 'preview: due, blocked and undated equal plain SQL');

# delete the payments of some rentals first, so that part of the expired rentals is free
my $freed = $q->("WITH gone AS (DELETE FROM payment WHERE rental_id IN
                   (SELECT rental_id FROM rental WHERE return_date < $cut ORDER BY rental_id LIMIT 500)
                   RETURNING rental_id) SELECT count(DISTINCT rental_id) FROM gone");
is($freed, 500, 'payments of 500 expired rentals removed');
my $free = $q->("SELECT count(*) FROM rental r WHERE return_date < $cut
                  AND NOT EXISTS (SELECT 1 FROM payment p WHERE p.rental_id = r.rental_id)");
my $blocked = $expired - $free;
is($q->("SELECT rows_due || '/' || rows_blocked FROM retention.preview($as_of)"),
	"$expired/$blocked", 'preview follows the payments');

my ($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('rental', $as_of)");
is($ret, 0, 'run succeeds');
like($err, qr/$free rows deleted .* $blocked blocked by foreign keys, 0 skipped \(locked\), $undated undated/,
	'run reports deleted, blocked and undated rows');
is($q->('SELECT count(*) FROM rental'), $total - $free, 'exactly the free expired rentals are gone');
is($q->("SELECT count(*) FROM rental r WHERE return_date < $cut
          AND NOT EXISTS (SELECT 1 FROM payment p WHERE p.rental_id = r.rental_id)"), 0,
	'no deletable expired rental is left');
is($q->("SELECT count(*) FROM rental WHERE return_date >= $cut OR return_date IS NULL"),
	$total - $expired, 'no rental inside the retention period was touched');
is($q->('SELECT count(*) FROM payment p WHERE NOT EXISTS (SELECT 1 FROM rental r WHERE r.rental_id = p.rental_id)'),
	0, 'no payment lost its rental');
is($q->("SELECT rows || '/' || blocked || '/' || undated || '/' || status FROM retention.runs"),
	"$free/$blocked/$undated/success", 'the run record holds the same counts');

($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('rental', $as_of)");
like($err, qr/ 0 rows deleted/, 'a second run deletes nothing');
is($q->('SELECT count(*) FROM rental'), $total - $free, 'row count unchanged by the second run');
is($q->("SELECT string_agg(status, ',' ORDER BY run_id) FROM retention.runs"), 'success,success',
	'both runs recorded');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the audit chain verifies');

$node->stop;
done_testing();
