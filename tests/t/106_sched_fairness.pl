# Fairness: 300 tables with policies in three databases, retention.max_workers = 2,
# and fewer background worker slots than that (max_worker_processes = 3, of which
# the launcher and the logical replication launcher take two).  Every policy
# still runs within a bounded number of naptimes, the databases take turns in
# the one slot there is, and the failure to start a second worker is logged
# once, with a hint, not every naptime.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SchedTest;

my $node = sched_node('fairness', 'retention.max_workers = 2', 'max_worker_processes = 3',
	'max_parallel_workers = 0');
my @dbs = ('fa', 'fb', 'fc');
for my $db (@dbs)
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
		CREATE EXTENSION pg_retention;
		DO $$
		BEGIN
		  FOR i IN 1..100 LOOP
		    EXECUTE format('CREATE TABLE t%s(id bigserial PRIMARY KEY, at timestamptz NOT NULL)', i);
		    EXECUTE format('CREATE INDEX ON t%s(at)', i);
		    EXECUTE format($q$INSERT INTO t%s(at) SELECT now() - interval '2 days' FROM generate_series(1, 20)$q$, i);
		    EXECUTE format($q$INSERT INTO t%s(at) SELECT now() - interval '1 minute' FROM generate_series(1, 3)$q$, i);
		    PERFORM retention.add_policy(format('t%s', i)::regclass, interval '1 hour', 'at');
		  END LOOP;
		END $$;
	});
}
my $start = time;

# a table is done when only its 3 fresh rows are left
my $left = q{SELECT count(*) FROM pg_class c WHERE c.relname ~ '^t[0-9]+$' AND c.relkind = 'r'
	AND (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int <> 3};
for my $db (@dbs)
{
	my $took = poll_until($node, $db, $left, '0', 60);
	ok(defined $took, "$db: all 100 policies ran");
}
my $elapsed = time - $start;
cmp_ok($elapsed, '<', 60, sprintf('300 policies in 3 databases done in %.1f s (naptime 1 s, one worker slot)', $elapsed));

for my $db (@dbs)
{
	is($node->safe_psql($db,
		"SELECT count(DISTINCT policy_id) || '/' || sum(rows) || '/' || count(*) FILTER (WHERE status <> 'success')
		   FROM retention.runs"), '100/2000/0', "$db: each policy ran, exactly 20 rows each, no failure");
}

my @warnings = grep { /could not start a worker/ } split /\n/, slurp_file($node->logfile);
is(scalar(@warnings), 1, 'failure to start a worker logged once');
like(slurp_file($node->logfile), qr/HINT:  Raise max_worker_processes/, 'with a hint');
my @bad = grep { /ERROR|FATAL|PANIC/ } split /\n/, slurp_file($node->logfile);
is(join("\n", @bad), '', 'no error in the log');

$node->stop;
done_testing();
