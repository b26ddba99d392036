# A policy added or changed is first applied at the worker's next pass, not at
# the commit of add_policy: with a naptime of an hour, the rows stay, preview
# shows what the pass will do, and a reload with a shorter naptime brings the
# pass forward.  (A pass at commit made the worker delete, as of now, rows
# that the DBA meant to preview or to purge with a CALL of their own as_of.)
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

my $id = $node->safe_psql('app', q{SELECT retention.add_policy('ev', interval '1 day', 'at')});
$node->safe_psql('app', qq{SELECT retention.alter_policy($id, keep => interval '2 hours')});
sleep 3;
is($node->safe_psql('app', 'SELECT count(*) FROM ev'), '530', 'neither add_policy nor alter_policy makes the worker run');
is($node->safe_psql('app', 'SELECT rows_due FROM retention.preview()'), '520', 'preview shows what the next pass will do');
is($node->safe_psql('app', q{SELECT next_run > now() + interval '50 minutes' FROM retention.status}), 't',
	'status: the next run is the next pass');

# a shorter naptime, reloaded, brings the pass forward
$node->safe_psql('app', q{ALTER SYSTEM SET retention.naptime = '1s'; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM ev', '10', 15), 'the next pass applies the policy');
is($node->safe_psql('app', q{SELECT string_agg(trigger || ':' || rows, ',' ORDER BY run_id) FROM retention.runs}),
	'worker:520', 'in one worker run');
unlike(slurp_file($node->logfile), qr/ERROR|WARNING|PANIC/, 'server log has no error');
$node->stop;
done_testing();
