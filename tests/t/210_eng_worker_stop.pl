# A worker deep in the table owner's code stops within moments.  A mask function
# that sleeps 0.3 s per row keeps a worker busy for a minute, in the due test
# (200 expired rows that are masked already: the test compares each with its
# mask and finds nothing to do) or in a run (200 rows still to mask).  DROP
# DATABASE, DROP DATABASE WITH (FORCE), pg_terminate_backend() and a fast
# shutdown must each get through in a few seconds; before, SIGTERM only set a
# flag the worker looked at between batches, and DROP DATABASE failed after 15 s
# with 55006.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SchedTest;

my $node = sched_node('worker_stop', 'retention.max_workers = 4');

# Creates database $db whose worker spends a minute in slow_mask(): in the due
# test ($pending = 0: every expired row is masked already) or in a run.
sub slow_database
{
	my ($db, $pending) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	my $value = $pending ? "'secret ' || g" : "'masked'";
	$node->safe_psql($db, qq{
		CREATE EXTENSION pg_retention;
		CREATE FUNCTION public.slow_mask(text) RETURNS text LANGUAGE plpgsql IMMUTABLE
		  AS \$\$BEGIN PERFORM pg_catalog.pg_sleep(0.3); RETURN 'masked'; END\$\$;
		CREATE TABLE notes(id int PRIMARY KEY, note text, at timestamptz NOT NULL);
		INSERT INTO notes SELECT g, $value, now() - interval '2 days' FROM generate_series(1, 200) g;
		SELECT retention.tag('notes', 'note', 'free_text', 'function(public.slow_mask)');
		SELECT retention.add_policy('notes', interval '1 hour', 'at', 'anonymize', batch_size => 100);
	});
	return;
}

# Waits until the worker of $db sleeps in slow_mask(); returns its pid.
sub wait_in_mask
{
	my ($db) = @_;
	my ($t, $pid) = poll_until($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'
		   AND datname = '$db' AND wait_event = 'PgSleep'", '1', 30);
	ok(defined $t, "$db: the worker is inside the owner's slow mask");
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = '$db'");
}

# Runs SQL, returns the seconds it took and its error ('' on success).
sub timed
{
	my ($db, $sql) = @_;
	my $start = time;
	my ($ret, $out, $err) = $node->psql($db, $sql);
	return (time - $start, $ret == 0 ? '' : $err);
}

# the due test: a worker outside any run, in the owner's code
slow_database('due_force', 0);
wait_in_mask('due_force');
my ($t, $err) = timed('postgres', 'DROP DATABASE due_force WITH (FORCE)');
is($err, '', 'DROP DATABASE WITH (FORCE) succeeds while the worker is in a due test');
cmp_ok($t, '<', 4, sprintf('... within %.1f s', $t));

slow_database('due_plain', 0);
wait_in_mask('due_plain');
($t, $err) = timed('postgres', 'DROP DATABASE due_plain');
is($err, '', 'plain DROP DATABASE succeeds while the worker is in a due test');
cmp_ok($t, '<', 4, sprintf('... within %.1f s', $t));

# pg_terminate_backend() of a worker in a due test: it is gone at once
slow_database('due_term', 0);
my $pid = wait_in_mask('due_term');
my $start = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok(defined poll_until($node, 'postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid", '0', 10),
	'a terminated worker leaves its due test');
cmp_ok(time - $start, '<', 3, sprintf('... within %.1f s', time - $start));
like(slurp_file($node->logfile), qr/terminating background worker "pg_retention worker" due to administrator command/,
	'the worker says why it stopped');

# a run: the batch in flight rolls back, and the next run redoes it
slow_database('in_run', 1);
# the due test calls the slow mask too: wait for the run itself
ok(defined poll_until($node, 'in_run', "SELECT string_agg(status, ',') FROM retention.runs", 'running', 30),
	'a run is in progress');
$pid = wait_in_mask('in_run');
$start = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
ok(defined poll_until($node, 'postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $pid", '0', 10),
	'a terminated worker leaves its run');
cmp_ok(time - $start, '<', 3, sprintf('... within %.1f s', time - $start));
is($node->safe_psql('in_run', "SELECT count(*) FROM notes WHERE note = 'masked'"), '0',
	'the batch in flight rolled back whole');
# the launcher starts a worker again, whose run marks the old one interrupted
ok(defined poll_until($node, 'in_run',
		"SELECT count(*) FROM retention.runs WHERE status = 'interrupted'", '1', 30),
	'the next run records the terminated run as interrupted');
wait_in_mask('in_run');
($t, $err) = timed('postgres', 'DROP DATABASE in_run WITH (FORCE)');
is($err, '', 'DROP DATABASE WITH (FORCE) succeeds during a run');
cmp_ok($t, '<', 4, sprintf('... within %.1f s', $t));

# a fast shutdown while one worker is in a due test and another in a run
slow_database('shut_due', 0);
slow_database('shut_run', 1);
wait_in_mask('shut_due');
wait_in_mask('shut_run');
$start = time;
$node->stop('fast');
my $took = time - $start;
cmp_ok($took, '<', 5, sprintf('pg_ctl stop -m fast takes %.1f s with workers in the owner\'s code', $took));

done_testing();
