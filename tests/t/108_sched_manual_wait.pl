# A manual CALL retention.run() that meets the worker running the same policy
# says so, waits for the worker's run to end, runs the policy itself and
# returns with every expired row gone (before, it skipped the policy and
# returned at once with most rows still there).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

# naptime 1 s: the worker takes a new policy within a second; no time budget
my $node = sched_node('manualwait', 'retention.max_run_time = 0');
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_retention;
	CREATE FUNCTION slow_down() RETURNS trigger LANGUAGE plpgsql
	  AS $$BEGIN PERFORM pg_catalog.pg_sleep(0.0002); RETURN OLD; END$$;
	CREATE TABLE big(id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	CREATE INDEX ON big(at);
	CREATE TRIGGER slow_down BEFORE DELETE ON big FOR EACH ROW EXECUTE FUNCTION slow_down();
	INSERT INTO big(at) SELECT now() - interval '2 days' FROM generate_series(1, 20000);
	INSERT INTO big(at) SELECT now() FROM generate_series(1, 100);
});

ok(defined poll_until($node, 'postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'}, '1', 30),
	'a worker serves the database');

# add the policy and, once the worker has started on it, call a run ourselves
my ($ret, $out, $err) = $node->psql('postgres', q{
	SELECT retention.add_policy('big', interval '1 hour', 'at', batch_size => 500) > 0;
	DO $$BEGIN
	  FOR i IN 1 .. 200 LOOP
	    EXIT WHEN EXISTS (SELECT 1 FROM retention.runs WHERE trigger = 'worker' AND status = 'running');
	    PERFORM pg_catalog.pg_sleep(0.05);
	  END LOOP;
	END$$;
	SELECT count(*) FROM retention.runs WHERE trigger = 'worker' AND status = 'running';
	CALL retention.run('big');
	SELECT count(*) FROM big;
});
is($ret, 0, 'the manual run succeeds') or diag $err;
my @lines = split /\n/, $out;
is($lines[1], '1', 'the worker was running the new policy when the call came');
like($err, qr/NOTICE:  retention policy \d+ on public\.big is running in another session; waiting for that run to finish/,
	'the call says it waits for the other run');
like($err, qr/NOTICE:  retention policy \d+ on public\.big: 0 rows deleted/,
	'then runs the policy itself, finding nothing left');
is($lines[-1], '100', 'when the call returns, every expired row is gone and the recent ones stay');
is($node->safe_psql('postgres', q{SELECT string_agg(trigger || ':' || status, ',' ORDER BY run_id) FROM retention.runs}),
	'worker:success,manual:success', 'one worker run, then one manual run, both successful');
is($node->safe_psql('postgres', q{SELECT sum(rows) FROM retention.runs}), '20000', 'no row counted twice');
$node->stop;
done_testing();
