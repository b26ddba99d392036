# A worker never blocks DDL.  While workers are in the middle of slow purges:
# DROP DATABASE, CREATE DATABASE ... TEMPLATE, ALTER DATABASE ... RENAME,
# DROP TABLE of the table being purged, and DROP EXTENSION all succeed within
# seconds (PostgreSQL itself would wait 5 s and then fail with "being accessed
# by other users"); dropping the extension stops the worker of that database.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SchedTest;

my $node = sched_node('ddl', 'retention.max_workers = 4');

# a database whose worker is busy: a slow delete trigger makes the purge last
sub busy_database
{
	my ($db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION pg_retention;
		CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql
		  AS $$BEGIN PERFORM pg_catalog.pg_sleep(0.001); RETURN OLD; END$$;
		CREATE TABLE big(id bigserial PRIMARY KEY, at timestamptz NOT NULL);
		CREATE TRIGGER slow_down BEFORE DELETE ON big FOR EACH ROW EXECUTE FUNCTION slow_down();
		INSERT INTO big(at) SELECT now() - interval '2 days' FROM generate_series(1, 100000);
		SELECT retention.add_policy('big', interval '1 hour', 'at', batch_size => 500);
	});
	ok(defined poll_until($node, $db,
			"SELECT count(*) > 0 FROM retention.runs WHERE status = 'running' AND rows > 0", 't', 20),
		"$db: worker is purging");
	return;
}

# runs DDL, returns seconds taken and the error text ('' on success)
sub timed
{
	my ($db, $sql) = @_;
	my $start = time;
	my ($ret, $out, $err) = $node->psql($db, $sql);
	return (time - $start, $ret == 0 ? '' : $err);
}

busy_database('victim');
my ($t, $err) = timed('postgres', 'DROP DATABASE victim');
is($err, '', 'DROP DATABASE succeeds while its worker purges');
cmp_ok($t, '<', 4, "DROP DATABASE took under 4 s ($t)");

busy_database('tmpl');
($t, $err) = timed('postgres', 'CREATE DATABASE copied TEMPLATE tmpl');
is($err, '', 'CREATE DATABASE ... TEMPLATE succeeds while the template has a busy worker');
cmp_ok($t, '<', 4, "CREATE DATABASE took under 4 s ($t)");
($t, $err) = timed('postgres', 'ALTER DATABASE tmpl RENAME TO tmpl2');
is($err, '', 'ALTER DATABASE ... RENAME succeeds while the database has a worker');
cmp_ok($t, '<', 4, "ALTER DATABASE took under 4 s ($t)");
# each DDL cancelled the batch in flight (the worker may have come back in between)
is($node->safe_psql('tmpl2', "SELECT count(*) BETWEEN 1 AND 2 FROM retention.runs WHERE status = 'interrupted'
	AND error = 'canceling statement due to user request (SQLSTATE 57014)'"), 't',
	'the batch in flight was cancelled and the run recorded as interrupted');
# a run the DDL stopped between two batches ends as 'success' with what it did
is($node->safe_psql('tmpl2', "SELECT string_agg(status || ': ' || coalesce(error, ''), '; ') FROM retention.runs WHERE status = 'failed'"),
	'', 'no run failed');
ok(defined poll_until($node, 'tmpl2',
		"SELECT count(*) > 0 FROM retention.runs WHERE status = 'running' AND rows > 0", 't', 20),
	'the worker comes back after the DDL');

($t, $err) = timed('tmpl2', 'DROP TABLE big');
is($err, '', 'DROP TABLE of the table being purged succeeds');
cmp_ok($t, '<', 4, "DROP TABLE took under 4 s ($t)");
is($node->safe_psql('tmpl2', 'SELECT count(*) FROM retention.policies'), '0', 'its policy went with it');

busy_database('dropext');
($t, $err) = timed('dropext', 'DROP EXTENSION pg_retention');
is($err, '', 'DROP EXTENSION succeeds while the worker purges');
cmp_ok($t, '<', 4, "DROP EXTENSION took under 4 s ($t)");
ok(defined poll_until($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'dropext'",
		'0', 10), 'no worker stays in a database without the extension');
sleep 3;
is(workers_in($node, 'dropext'), '0', 'and none comes back');

# the copied database holds the extension too: it gets its own worker
ok(defined poll_until($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'copied'",
		'1', 10), 'a database created from a template with the extension gets a worker');

my @bad = grep { /ERROR|FATAL|WARNING|PANIC/ } split /\n/, slurp_file($node->logfile);
is(join("\n", @bad), '', 'no error, warning or "being accessed by other users" in the log');

$node->stop;
done_testing();
