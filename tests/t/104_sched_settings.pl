# Settings take effect on SIGHUP, without a restart: a new retention.naptime,
# retention.enabled = off (pause: workers leave, nothing runs, status shows no
# next run) and back on, retention.max_run_time (a run stops after the batch
# that passes its budget and the next pass continues), and
# retention.run_history_keep (the run history stays bounded).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('settings', "retention.naptime = '1h'", 'retention.run_history_keep = 3');
$node->safe_psql('postgres', 'CREATE DATABASE app');
# one transaction: the worker's first pass, asked for by CREATE EXTENSION at its
# commit, must find the policy (a policy added later waits for the next pass)
$node->safe_psql('app', q{
	BEGIN;
	CREATE EXTENSION pg_retention;
	CREATE TABLE ev(id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO ev(at) SELECT now() - interval '2 days' FROM generate_series(1, 500);
	INSERT INTO ev(at) SELECT now() - interval '1 minute' FROM generate_series(1, 10);
	SELECT retention.add_policy('ev', interval '1 hour', 'at');
	COMMIT;
});

# a database that gains the extension gets its first pass at once, whatever the naptime
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM ev', '10', 10), 'first pass purges at once');
is($node->safe_psql('app',
	"SELECT next_run > now() + interval '50 minutes' FROM retention.status"), 't',
	'status: next run an hour after the first pass');

# with a naptime of an hour, new expired rows wait
$node->safe_psql('app', "INSERT INTO ev(at) SELECT now() - interval '2 days' FROM generate_series(1, 100)");
sleep 3;
is($node->safe_psql('app', 'SELECT count(*) FROM ev'), '110', 'naptime of 1h: nothing purged yet');

# SIGHUP with a new naptime: the sleeping worker wakes up on the new schedule
$node->safe_psql('app', "ALTER SYSTEM SET retention.naptime = '1s'");
$node->reload;
my $took = poll_until($node, 'app', 'SELECT count(*) FROM ev', '10', 10);
ok(defined $took, 'new naptime takes effect after reload');
note(sprintf('purged %.1f s after the reload', $took // -1));
is($node->safe_psql('app', 'SHOW retention.naptime'), '1s', 'naptime is 1s');

# the run history stays bounded by retention.run_history_keep
for my $i (1 .. 4)
{
	$node->safe_psql('app', "INSERT INTO ev(at) SELECT now() - interval '2 days' FROM generate_series(1, 10)");
	poll_until($node, 'app', 'SELECT count(*) FROM ev', '10', 10);
}
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM retention.runs', '3', 10),
	'six runs, three records kept');
is($node->safe_psql('app', "SELECT string_agg(rows::text, ',' ORDER BY run_id) FROM retention.runs"),
	'10,10,10', 'the newest records are kept');

# pause everything: retention.enabled = off
$node->safe_psql('app', 'ALTER SYSTEM SET retention.enabled = off');
$node->reload;
ok(defined poll_until($node, 'postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'", '0', 10),
	'workers leave when the scheduler is disabled');
$node->safe_psql('app', "INSERT INTO ev(at) SELECT now() - interval '2 days' FROM generate_series(1, 40)");
sleep 3;
is($node->safe_psql('app', 'SELECT count(*) FROM ev'), '50', 'paused: nothing purged');
is($node->safe_psql('app', 'SELECT next_run IS NULL FROM retention.status'), 't', 'paused: no next run');
$node->safe_psql('app', 'ALTER SYSTEM SET retention.enabled = on');
$node->reload;
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM ev', '10', 10), 'resumed: purged');

# a time budget of 1 ms: each run stops after its first batch, later passes continue
$node->safe_psql('app', "ALTER SYSTEM SET retention.max_run_time = '1ms'");
$node->reload;
my $id = setup_events($node, 'app', 'budget', 200, 5, batch_size => 50);
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM budget', '5', 20), 'budgeted runs purge it all');
is($node->safe_psql('app',
	"SELECT string_agg(rows || ':' || batches || ':' || status, ',' ORDER BY run_id)
	   FROM retention.runs WHERE policy_id = $id"),
	'50:1:success,50:1:success,50:1:success', 'each run did one batch of 50 (last three kept)');

unlike(slurp_file($node->logfile), qr/ERROR|WARNING|PANIC/, 'server log has no error');
$node->stop;
done_testing();
