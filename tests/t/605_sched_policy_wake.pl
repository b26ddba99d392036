# The race behind a rare failure of 104_sched_settings ("first pass purges at
# once"), made deterministic: the worker's first pass, asked for by CREATE
# EXTENSION, happens before the policy is added (psql commits each statement
# on its own).  With a naptime of an hour the policy must not wait that hour:
# add_policy and alter_policy ask the worker for a pass at their commit.  Rows
# that merely expire, with no policy change, still wait for the naptime.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('policy_wake', "retention.naptime = '1h'");
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
	CREATE EXTENSION pg_retention;
	CREATE TABLE ev (id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO ev (at) SELECT now() - interval '2 days' FROM generate_series(1, 500);
	INSERT INTO ev (at) SELECT now() - interval '3 hours' FROM generate_series(1, 20);
	INSERT INTO ev (at) SELECT now() - interval '1 minute' FROM generate_series(1, 10);
});
# the worker has made its first pass (nothing to do) and sleeps for an hour
ok(defined poll_until($node, 'postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'pg_retention worker' AND datname = 'app' AND wait_event = 'Extension'}, '1', 30),
	'the worker made its first pass and sleeps');
sleep 1;

my $id = $node->safe_psql('app', q{SELECT retention.add_policy('ev', interval '1 day', 'at')});
my $took = poll_until($node, 'app', 'SELECT count(*) FROM ev', '30', 10);
ok(defined $took, 'a policy added after the first pass runs at once');
note(sprintf('purged %.1f s after add_policy', $took // -1));

$node->safe_psql('app', qq{SELECT retention.alter_policy($id, keep => interval '2 hours')});
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM ev', '10', 10), 'a shortened period applies at once too');

# no policy change: new expired rows wait for the naptime
$node->safe_psql('app', q{INSERT INTO ev (at) SELECT now() - interval '2 days' FROM generate_series(1, 5)});
sleep 3;
is($node->safe_psql('app', 'SELECT count(*) FROM ev'), '15', 'rows that just expired wait for the next pass');
is($node->safe_psql('app', q{SELECT string_agg(rows::text, ',' ORDER BY run_id) FROM retention.runs}), '500,20',
	'two runs, one per policy change');
# a change rolled back asks for nothing
$node->safe_psql('app', qq{BEGIN; SELECT retention.alter_policy($id, keep => interval '1 hour'); ROLLBACK;});
sleep 2;
is($node->safe_psql('app', 'SELECT count(*) FROM retention.runs'), '2', 'a rolled-back change makes no pass');
unlike(slurp_file($node->logfile), qr/ERROR|WARNING|PANIC/, 'server log has no error');
$node->stop;
done_testing();
