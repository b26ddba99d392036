# Crash safety: the database worker is killed with SIGKILL in the middle of a
# large purge, then the restarted server is stopped in immediate mode in the
# middle of the rerun.  After the final restart the purge completes by itself;
# every expired row is gone, no other row is touched, the interrupted runs are
# recorded as interrupted, and the run records add up to exactly the rows
# deleted (a batch is all or nothing: nothing deleted twice or skipped).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use SchedTest;

my $old = 20000;
my $new = 5000;
my $node = sched_node('crash', 'restart_after_crash = on');
$node->safe_psql('postgres', 'CREATE DATABASE crash');
$node->safe_psql('crash', q{
	CREATE EXTENSION pg_retention;
	-- a row trigger slows each delete down, so that the purge lasts long enough to be hit
	CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql
	  AS $$BEGIN PERFORM pg_catalog.pg_sleep(0.0005); RETURN OLD; END$$;
});
$node->safe_psql('crash', q{
	CREATE TABLE big(id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	CREATE TRIGGER slow_down BEFORE DELETE ON big FOR EACH ROW EXECUTE FUNCTION slow_down();
});
$node->safe_psql('crash', "INSERT INTO big(at) SELECT now() - interval '2 days' FROM generate_series(1, $old)");
$node->safe_psql('crash', "INSERT INTO big(at) SELECT now() - interval '1 minute' FROM generate_series(1, $new)");
$node->safe_psql('crash', "SELECT retention.add_policy('big', interval '1 hour', 'at', batch_size => 200)");

# wait until the worker is in the middle of the purge
my $mid = "SELECT count(*) > 0 FROM retention.runs WHERE status = 'running' AND rows >= 1000";
ok(defined poll_until($node, 'crash', $mid, 't', 30), 'worker is purging');
my $pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'crash'");
like($pid, qr/^\d+$/, 'found the worker');
kill 'KILL', $pid;
ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'server back after the crash');
ok(defined poll_until($node, 'crash',
		"SELECT count(*) FROM retention.runs WHERE status = 'interrupted'", '1', 30),
	'the killed run is recorded as interrupted');
ok(defined poll_until($node, 'crash', $mid, 't', 30), 'the worker purges again by itself');

# now an immediate stop of the whole server in the middle of the rerun
$node->stop('immediate');
$node->start;
my $took = poll_until($node, 'crash', 'SELECT count(*) FROM big', $new, 90);
ok(defined $took, 'purge completed after the restart');

is($node->safe_psql('crash', "SELECT count(*) FROM big WHERE at < now() - interval '1 hour'"), '0',
	'no expired row left');
is($node->safe_psql('crash', "SELECT count(*) FROM big WHERE at >= now() - interval '1 hour'"), $new,
	'every unexpired row kept');
is($node->safe_psql('crash', "SELECT string_agg(status, ',' ORDER BY run_id) FROM retention.runs"),
	'interrupted,interrupted,success', 'two interrupted runs, then a successful one');
is($node->safe_psql('crash',
		"SELECT count(*) FROM retention.runs WHERE status = 'interrupted'
		   AND error = 'the session or server running it stopped before the run finished'
		   AND finished_at IS NOT NULL AND rows > 0"), '2',
	'the interrupted runs say why and keep the counts of their committed batches');
is($node->safe_psql('crash', 'SELECT sum(rows) FROM retention.runs'), $old,
	'run records add up to exactly the rows deleted');
is($node->safe_psql('crash', 'SELECT ok FROM retention.verify_audit()'), 't', 'audit chain intact');

$node->stop;
done_testing();
