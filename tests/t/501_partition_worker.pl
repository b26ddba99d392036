# The scheduler removes expired partitions by itself, with DETACH ... CONCURRENTLY:
# while an old transaction still reads the partitioned table, the worker waits for it
# and other sessions go on reading and writing the table; then the partitions are
# dropped and audited.  A partition set made by pg_partman (which has a DEFAULT
# partition, so the detach is a plain one) is handled too, and pg_partman's own
# maintenance still works afterwards.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SchedTest;

my $node = sched_node('partition_worker', "retention.enabled = off");
my $q = sub { $node->safe_psql('postgres', shift) };
$q->('CREATE EXTENSION pg_retention');

# monthly partitions from six months ago to next month; rows in the three oldest and
# in the last two weeks, none near the cutoff (two months ago) that moves with now()
$q->(q{
	CREATE TABLE ticks (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE INDEX ON ticks (at);
	DO $$
	DECLARE m timestamptz := date_trunc('month', now()) - interval '6 months';
	BEGIN
	  FOR i IN 0..7 LOOP
	    EXECUTE format('CREATE TABLE ticks_%s PARTITION OF ticks FOR VALUES FROM (%L) TO (%L)',
	                   i, m + i * interval '1 month', m + (i + 1) * interval '1 month');
	  END LOOP;
	END $$;
	INSERT INTO ticks SELECT g, date_trunc('month', now()) - interval '6 months' + g * interval '1 hour'
	  FROM generate_series(0, 2000) g;
	INSERT INTO ticks SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 300) g;
});
my $old = $q->(q{SELECT count(*) FROM ticks WHERE at < now() - interval '3 months'});
my $whole = $q->(q{SELECT count(*) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
                   WHERE i.inhparent = 'ticks'::regclass
                     AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)'))[1]::timestamptz
                         <= now() - interval '2 months'});
cmp_ok($whole, '>=', 3, "$whole partitions lie wholly before the cutoff");
my $pid = $q->(q{SELECT retention.add_policy('ticks', interval '2 months', 'at')});

# an old transaction reads the table and stays open
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
my $seen = $reader->query_safe('SELECT count(*) FROM ticks');
$node->append_conf('postgresql.conf', 'retention.enabled = on');
$node->reload;

# the worker waits for it on the first detach; others are not blocked meanwhile
ok(defined poll_until($node, 'postgres',
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'
	   AND wait_event_type = 'Lock' AND wait_event = 'virtualxid'}, 't', 60),
	'the worker waits for the old transaction (DETACH CONCURRENTLY)');
my $start = time;
$q->(q{INSERT INTO ticks VALUES (-1, now() - interval '1 minute')});
is($q->('SELECT count(*) > 0 FROM ticks'), 't', 'another session reads and writes the table meanwhile');
cmp_ok(time - $start, '<', 5, 'without waiting');
is($reader->query_safe('SELECT count(*) FROM ticks'), $seen, 'the old transaction still sees its rows');
$reader->query_safe('COMMIT');
$reader->quit;

ok(defined poll_until($node, 'postgres',
	"SELECT count(*) FROM retention.audit WHERE event = 'partition_dropped'", $whole, 60),
	"the worker dropped the $whole partitions");
is($q->(q{SELECT count(*) FROM ticks WHERE at < now() - interval '2 months'}), 0, 'no expired row is left');
# the actor is the worker's login role: retention.worker_role, or the bootstrap superuser
is($q->(q{SELECT bool_and((details->>'concurrently')::boolean)
                 AND bool_and(actor = COALESCE(NULLIF(current_setting('retention.worker_role'), ''),
                                               (SELECT rolname FROM pg_roles WHERE oid = 10)))
           FROM retention.audit WHERE event = 'partition_dropped'}), 't', 'each was detached concurrently');
is($q->(qq{SELECT sum(rows) >= $old AND sum(partitions) = $whole AND bool_and(status = 'success') AND bool_and(trigger = 'worker')
           FROM retention.runs WHERE policy_id = $pid}), 't', 'the worker runs record the rows and partitions');
is($q->(q{SELECT count(*) FROM pg_inherits WHERE inhdetachpending}), 0, 'no detach is left pending');

my ($ret, $out, $err);

# pg_partman: monthly partitions from 2024-01, its DEFAULT partition, data in January to June 2024
SKIP:
{
	skip 'pg_partman is not installed', 6
	  unless $q->(q{SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman'});
	# this one is run by hand, as of a fixed time
	$node->append_conf('postgresql.conf', 'retention.enabled = off');
	$node->reload;
	$q->(q{
		CREATE SCHEMA partman;
		CREATE EXTENSION pg_partman SCHEMA partman;
		CREATE TABLE pm (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
		SELECT partman.create_parent('public.pm', 'at', 'native', 'monthly', p_start_partition => '2024-01-01');
		INSERT INTO pm SELECT g, timestamptz '2024-01-01' + g * interval '1 hour' FROM generate_series(0, 4367) g;
		SELECT retention.add_policy('pm', '3 months', 'at', batch_size => 500);
	});
	is($q->(q{SELECT count(*) FROM pm_default}), 0, 'pg_partman made a DEFAULT partition');
	($ret, $out, $err) = $node->psql('postgres', q{CALL retention.run('pm', timestamptz '2024-06-15 00:00+00')});
	like($err, qr/1776 rows deleted \(2 partitions removed whole\)/,
		'January and February (2024) go whole, March up to the 15th by rows');
	is($q->(q{SELECT string_agg(details->>'partition' || ':' || rows || ':' || (details->>'concurrently'), ',' ORDER BY seq)
	           FROM retention.audit WHERE event = 'partition_dropped' AND tbl LIKE 'public.pm%'}),
		'public.pm_p2024_01:744:false,public.pm_p2024_02:696:false',
		'beside a DEFAULT partition the detach is a plain one');
	is($q->(q{SELECT min(at) FROM pm}), '2024-03-15 00:00:00+00', 'nothing older than the cutoff is left');
	is($q->(q{SELECT count(*) FROM pm_default}), 0, 'the DEFAULT partition is kept');
	($ret, $out, $err) = $node->psql('postgres', q{SELECT partman.run_maintenance('public.pm')});
	is($ret, 0, "pg_partman's maintenance still runs");
}

# a concurrent detach cancelled in its second transaction leaves the partition "detach
# pending"; the next run finishes the detach and drops it
$node->append_conf('postgresql.conf', 'retention.enabled = off');
$node->reload;
$q->(q{
	CREATE TABLE pend (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE pend_2024_01 PARTITION OF pend FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
	CREATE TABLE pend_2024_02 PARTITION OF pend FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
	INSERT INTO pend SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour' FROM generate_series(0, 1000) g;
	SELECT retention.add_policy('pend', '30 days', 'at');
});
my $old_reader = $node->background_psql('postgres');
$old_reader->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$old_reader->query_safe('SELECT count(*) FROM pend');
my $detacher = $node->background_psql('postgres', on_error_stop => 0);
$detacher->query_until(qr/sent/, "\\echo sent\nALTER TABLE pend DETACH PARTITION pend_2024_01 CONCURRENTLY;\n");
ok(defined poll_until($node, 'postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE pend DETACH%' AND wait_event = 'virtualxid'}, '1', 60),
	'a hand-made concurrent detach waits for the old reader');
$q->(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE pend DETACH%'});
ok(defined poll_until($node, 'postgres',
	q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'pend_2024_01'::regclass AND inhdetachpending}, '1', 30),
	'cancelled, it leaves the partition detach pending');
$detacher->quit;
$old_reader->query_safe('COMMIT');
$old_reader->quit;
($ret, $out, $err) = $node->psql('postgres', q{CALL retention.run('pend', timestamptz '2024-03-15 00:00+00')});
like($err, qr/1001 rows deleted \(1 partition removed whole\) in 1 batch;/, 'the run finishes the detach, drops January and deletes the expired February rows');
is($q->(q{SELECT count(*) FROM pg_class WHERE relname = 'pend_2024_01'}), 0, 'January is gone');
is($q->(q{SELECT (details->>'concurrently') || ':' || rows FROM retention.audit
           WHERE event = 'partition_dropped' AND tbl = 'public.pend_2024_01'}), 'false:744', 'and audited');
is($q->(q{SELECT count(*) FROM pend WHERE at < timestamptz '2024-02-14 00:00+00'}), 0, 'no expired row is left');

unlike(slurp_file($node->logfile), qr/WARNING|PANIC|TRAP/, 'no warning in the server log');
$node->stop;
done_testing();
