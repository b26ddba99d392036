# The partition strategy on Pagila's monthly payment partitions, as of fixed times:
# partitions wholly before the cutoff are detached (CONCURRENTLY: CALL outside a
# transaction block, no DEFAULT partition) and dropped, one whose rows a dispute still
# references goes by rows, counts equal plain SQL, the run record and the audit trail
# say what happened, and nothing but the partitions themselves is dropped.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $node = new_cluster('partition_pagila');
load_pagila($node, 'pagila');
my $q = sub { $node->safe_psql('pagila', shift) };
$q->('CREATE EXTENSION pg_retention');

# a dispute keeps one February payment; every drop is logged by an event trigger
$q->(q{
	CREATE TABLE payment_dispute (dispute_id int PRIMARY KEY, payment_date timestamptz NOT NULL,
	                              payment_id int NOT NULL,
	                              FOREIGN KEY (payment_date, payment_id) REFERENCES payment);
	INSERT INTO payment_dispute
	  SELECT 1, payment_date, payment_id FROM payment_p2022_02 ORDER BY payment_id LIMIT 1;
	CREATE TABLE dropped (object_type text, object_identity text);
	CREATE FUNCTION log_dropped() RETURNS event_trigger LANGUAGE plpgsql AS $$
	BEGIN
	  INSERT INTO public.dropped SELECT object_type, object_identity FROM pg_event_trigger_dropped_objects()
	   WHERE object_identity NOT LIKE 'pg_toast.%';
	END $$;
	CREATE EVENT TRIGGER log_dropped ON sql_drop EXECUTE FUNCTION log_dropped();
});

my %month = map { split /\|/ } split /\n/,
  $q->(q{SELECT tableoid::regclass, count(*) FROM payment GROUP BY 1});
is(join(',', map { "$_=$month{$_}" } sort keys %month),
	'payment_p2022_01=723,payment_p2022_02=2401,payment_p2022_03=2713,payment_p2022_04=2547,'
	  . 'payment_p2022_05=2677,payment_p2022_06=2654,payment_p2022_07=2334',
	'Pagila has seven monthly payment partitions');
my $total = $q->('SELECT count(*) FROM payment');
my $rentals = $q->('SELECT count(*) FROM rental');

# as of 2022-06-15 with 3 months kept, the cutoff is 2022-03-15
my $as_of = "timestamptz '2022-06-15 00:00+00'";
my $cut = "timestamptz '2022-03-15 00:00+00'";
my $expired = $q->("SELECT count(*) FROM payment WHERE payment_date < $cut");
my $pid = $q->(q{SELECT retention.add_policy('payment', '3 months', 'payment_date',
                                              basis => 'payments: 3 months (test)')});
is($q->("SELECT rows_due || '/' || rows_blocked FROM retention.preview($as_of)"), "$expired/1",
	'preview: due and blocked rows');

my ($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('payment', $as_of)");
is($ret, 0, 'run succeeds');
my $gone = $expired - 1;
like($err, qr/retention policy $pid on public.payment: $gone rows deleted \(1 partition removed whole\) in \d+ batch(es)?; 1 blocked by foreign keys/,
	'the run reports the rows deleted, the partition removed whole and the blocked row');
like($err, qr/partition public.payment_p2022_02 lies wholly before the cutoff but went by rows: rows of it are still referenced through foreign key payment_dispute_payment_date_payment_id_fkey of table public.payment_dispute/,
	'and says why February went by rows');

is($q->(q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'payment'::regclass}),
	'payment_p2022_02,payment_p2022_03,payment_p2022_04,payment_p2022_05,payment_p2022_06,payment_p2022_07',
	'January is no longer a partition');
is($q->(q{SELECT count(*) FROM pg_class WHERE relname = 'payment_p2022_01'}), 0, 'and no longer a table');
is($q->('SELECT count(*) FROM payment_p2022_02'), 1, 'February keeps the disputed payment only');
is($q->("SELECT count(*) FROM payment WHERE payment_date < $cut"), 1, 'no other expired payment is left');
is($q->('SELECT count(*) FROM payment'), $total - $gone, 'exactly the expired payments are gone');
is($q->("SELECT count(*) FROM payment_p2022_03 WHERE payment_date >= $cut"),
	$q->('SELECT count(*) FROM payment_p2022_03'), 'March keeps its payments from the 15th on');
is($q->('SELECT rows || \'/\' || blocked || \'/\' || partitions || \'/\' || status FROM retention.runs'),
	"$gone/1/1/success", 'the run record: rows, blocked, partitions, status');
is($q->(q{SELECT event || '/' || tbl || '/' || rows || '/' || (details->>'concurrently') || '/' || (details->>'bound')
           FROM retention.audit WHERE event LIKE 'partition%'}),
	"partition_dropped/public.payment_p2022_01/$month{payment_p2022_01}/true/"
	  . "FOR VALUES FROM ('2022-01-01 00:00:00+00') TO ('2022-02-01 00:00:00+00')",
	'the audit trail records the drop, its rows and its real bounds');

# nothing but January and its own objects went: no CASCADE.  DETACH itself removes the
# copy of the dispute key that covered January (the partition left the key's range);
# the key stays and is enforced
is($q->(q{SELECT string_agg(object_type || ' ' || object_identity, ', ' ORDER BY object_identity, object_type) FROM dropped
           WHERE object_type IN ('table', 'view', 'rule', 'table constraint')}),
	'table constraint payment_dispute_payment_date_payment_id_fkey1 on public.payment_dispute, '
	  . 'table constraint payment_p2022_01_customer_id_fkey on public.payment_p2022_01, '
	  . 'table constraint payment_p2022_01_payment_date_check on public.payment_p2022_01, '
	  . 'table constraint payment_p2022_01_pkey on public.payment_p2022_01, '
	  . 'table constraint payment_p2022_01_rental_id_fkey on public.payment_p2022_01, '
	  . 'table constraint payment_p2022_01_staff_id_fkey on public.payment_p2022_01, '
	  . 'table public.payment_p2022_01',
	'only the partition, its own constraints and the key copy DETACH removes were dropped');
is($q->(q{SELECT count(*) FROM pg_constraint WHERE conname = 'payment_dispute_payment_date_payment_id_fkey'}), 1,
	'the dispute foreign key is still there');
($ret, $out, $err) = $node->psql('pagila',
	"INSERT INTO payment_dispute VALUES (2, timestamptz '2022-01-25 10:00+00', 17)");
like($err, qr/violates foreign key constraint "payment_dispute_payment_date_payment_id_fkey"/,
	'and still refuses a dispute of a payment that is gone');
is($q->('SELECT count(*) FROM rental'), $rentals, 'no rental was touched');
is($q->('SELECT count(*) > 0 FROM sales_by_store'), 't', 'the views over payment still work');

# the dispute is settled; as of 2022-09-15 (cutoff 2022-06-15) February to May go whole
$q->('DELETE FROM payment_dispute');
$cut = "timestamptz '2022-06-15 00:00+00'";
my $march = $q->('SELECT count(*) FROM payment_p2022_03');
my $june = $q->("SELECT count(*) FROM payment_p2022_06 WHERE payment_date < $cut");
my $rows2 = 1 + $march + $month{payment_p2022_04} + $month{payment_p2022_05} + $june;
($ret, $out, $err) = $node->psql('pagila', "CALL retention.run('payment', timestamptz '2022-09-15 00:00+00')");
like($err, qr/$rows2 rows deleted \(4 partitions removed whole\) in 1 batch;/,
	'February, March, April and May go whole, June by rows');
is($q->(q{SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'payment'::regclass}),
	'payment_p2022_06,payment_p2022_07', 'June and July remain');
is($q->("SELECT count(*) FROM payment WHERE payment_date < $cut"), 0, 'no expired payment is left');
is($q->('SELECT count(*) FROM payment'), $total - $gone - $rows2, 'and no other payment is gone');
is($q->(q{SELECT string_agg(tbl || ':' || rows, ',' ORDER BY seq) FROM retention.audit WHERE event = 'partition_dropped'}),
	"public.payment_p2022_01:$month{payment_p2022_01},public.payment_p2022_02:1,public.payment_p2022_03:$march,"
	  . "public.payment_p2022_04:$month{payment_p2022_04},public.payment_p2022_05:$month{payment_p2022_05}",
	'each drop is audited with its row count');
is($q->(q{SELECT rows || '/' || partitions || '/' || status FROM retention.runs ORDER BY run_id DESC LIMIT 1}),
	"$rows2/4/success", 'the second run record');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the audit chain verifies');

$node->stop;
done_testing();
