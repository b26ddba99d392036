# Run windows with the real worker (docs/operations.md#run-windows).  Windows
# are computed from now() so that they are closed or open at will.
#
# 1. With a naptime of an hour, a policy whose window opens in a few seconds
#    waits (no run, status.next_run = the window's start), the worker sleeps
#    rather than spins, and wakes at the window's start to run it; then its
#    min_interval keeps it from running again (next_run = start + 1 day).
# 2. A run that reaches the window's end stops between batches (batch_pause
#    makes the batches slow), recorded as stopped at the window's end, and no
#    run follows until the next window (next_run = tomorrow's start).
# 3. A run stopped at its time budget leaves its round open: the next passes
#    continue it despite a min_interval of a day, until the rows are gone;
#    then the policy waits for its min_interval although rows expire again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SchedTest;

my $node = sched_node('run_windows', "retention.naptime = '1h'");
$node->safe_psql('postgres', 'CREATE DATABASE app');

# 1. the extension, the table and a policy whose window opens in 8 seconds, in one transaction,
#    so that the worker's first pass (at the commit) already finds the window closed
my $a = $node->safe_psql('app', q{
	BEGIN;
	CREATE EXTENSION pg_retention;
	CREATE TABLE nightly (id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO nightly (at) SELECT now() - interval '2 days' FROM generate_series(1, 50);
	SELECT retention.add_policy('nightly', '1 day', 'at', time_zone => 'UTC',
		window_start => ((now() AT TIME ZONE 'UTC') + interval '8 seconds')::time(0),
		window_end => ((now() AT TIME ZONE 'UTC') + interval '1 hour')::time(0),
		min_interval => '1 day');
	COMMIT;
});
ok(defined poll_until($node, 'postgres', q{SELECT count(*) FROM pg_stat_activity
	WHERE backend_type = 'pg_retention worker' AND datname = 'app' AND wait_event = 'Extension'}, '1', 5),
	'the worker made its first pass and sleeps');
my $opens = $node->safe_psql('app', "SELECT opens FROM retention.next_window($a)");
is($node->safe_psql('app', "SELECT opens > now() FROM retention.next_window($a)"), 't', 'the window is closed now');
is($node->safe_psql('app', "SELECT next_run = '$opens' FROM retention.status WHERE policy_id = $a"), 't',
	'status: the next run is the start of the window, not the next pass an hour away');
is($node->safe_psql('app', 'SELECT count(*) FROM retention.runs'), '0', 'outside its window the policy waits');

# no busy loop: the worker's transactions while it waits for the window are a handful, not thousands
my $xacts = $node->safe_psql('app', "SELECT xact_commit FROM pg_stat_database WHERE datname = 'app'");
sleep 3;
$node->safe_psql('app', 'SELECT pg_stat_clear_snapshot()');
my $spent = $node->safe_psql('app', "SELECT xact_commit - $xacts FROM pg_stat_database WHERE datname = 'app'");
cmp_ok($spent, '<', 10, "the worker sleeps until the window opens ($spent transactions in 3 s)");
is($node->safe_psql('app', 'SELECT count(*) FROM nightly'), '50', 'the rows are still there before the window');

ok(defined poll_until($node, 'app', 'SELECT count(*) FROM nightly', '0', 15), 'the window opened: the rows went');
is($node->safe_psql('app', qq{SELECT started_at >= '$opens' AND started_at < timestamptz '$opens' + interval '2 seconds'
	FROM retention.runs WHERE policy_id = $a}), 't',
	'the worker woke at the start of the window (naptime is an hour)');
is($node->safe_psql('app', "SELECT trigger || ' ' || status || ' ' || rows FROM retention.runs WHERE policy_id = $a"),
	'worker success 50', 'one worker run did it');
is($node->safe_psql('app', qq{SELECT next_run = (SELECT started_at FROM retention.runs WHERE policy_id = $a) + interval '1 day'
	FROM retention.status WHERE policy_id = $a}), 't',
	'min_interval: the next run is a day after the start of this one, although the window is still open');

# 2. a window that closes in 6 seconds, batches of 100 rows 500 ms apart: the run stops at the window's end
my $b = $node->safe_psql('app', q{
	CREATE TABLE slow (id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO slow (at) SELECT now() - interval '2 days' FROM generate_series(1, 3000);
	SELECT retention.add_policy('slow', '1 day', 'at', time_zone => 'UTC', batch_size => 100,
		window_start => ((now() AT TIME ZONE 'UTC') - interval '1 minute')::time(0),
		window_end => ((now() AT TIME ZONE 'UTC') + interval '6 seconds')::time(0));
});
my $closes = $node->safe_psql('app', "SELECT closes FROM retention.next_window($b)");
$node->safe_psql('app', q{ALTER SYSTEM SET retention.naptime = '1s'; ALTER SYSTEM SET retention.batch_pause = '500ms';
	SELECT pg_reload_conf()});
ok(defined poll_until($node, 'app', "SELECT count(*) FROM retention.runs WHERE policy_id = $b AND finished_at IS NOT NULL", '1', 20),
	'the worker ran the policy in its window');
my ($rows, $status, $early, $finished_ok, $note) = split /\|/, $node->safe_psql('app', qq{
	SELECT r.rows, r.status, h.stopped_early, r.finished_at < timestamptz '$closes' + interval '1 second', r.notes
	  FROM retention.runs r JOIN retention.run_history h USING (run_id) WHERE r.policy_id = $b});
ok($rows > 0 && $rows < 3000 && $rows % 100 == 0, "the run stopped between batches, before the rows were done ($rows of 3000)");
is($status . ' ' . $early, 'success t', 'recorded as a success that stopped early');
is($finished_ok, 't', "it ended at the window's end ($closes), not a batch later");
like($note, qr/^stopped at the end of its run window \(\d\d:\d\d:\d\d to \d\d:\d\d:\d\d, UTC\); the next run goes on when it opens again$/,
	'the note says why');
is($node->safe_psql('app', 'SELECT count(*) FROM slow'), 3000 - $rows, 'the rows it did not reach are still there');
sleep 3;
is($node->safe_psql('app', "SELECT count(*) FROM retention.runs WHERE policy_id = $b"), '1',
	'after the window no run follows, although rows are overdue and the naptime is a second');
is($node->safe_psql('app', qq{SELECT next_run = (SELECT opens FROM retention.next_window($b))
	AND next_run > now() + interval '23 hours' FROM retention.status WHERE policy_id = $b}), 't',
	"status: the next run is the start of tomorrow's window");

# 3. no window, a min_interval of a day, a time budget that stops every run after its first batch
$node->safe_psql('app', "SELECT retention.alter_policy($b, enabled => false)");
my $c = $node->safe_psql('app', q{
	CREATE TABLE budget (id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO budget (at) SELECT now() - interval '2 days' FROM generate_series(1, 400);
	SELECT retention.add_policy('budget', '1 day', 'at', batch_size => 100, min_interval => '1 day');
});
$node->safe_psql('app', q{ALTER SYSTEM SET retention.max_run_time = '100ms'; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM budget', '0', 30),
	'runs stopped at their time budget are continued despite min_interval');
# the last run stopped at its budget too, with its batch the last: the next pass finds nothing and ends the round
my ($took, $got) = poll_until($node, 'app', qq{SELECT string_agg(r.rows || ':' || h.stopped_early || ':' || r.status, ',' ORDER BY run_id)
	FROM retention.runs r JOIN retention.run_history h USING (run_id) WHERE r.policy_id = $c},
	'100:true:success,100:true:success,100:true:success,100:false:success', 5);
ok(defined $took, "four runs of a batch each; the next pass found nothing left and the last ended the round ($got)");
like($node->safe_psql('app', "SELECT notes FROM retention.runs WHERE policy_id = $c ORDER BY run_id DESC LIMIT 1"),
	qr/\Astopped at its time budget \(retention\.max_run_time\); the next run goes on\nthe next pass found nothing left: the round of runs ended with this one\z/,
	'its notes say so');
$node->safe_psql('app', q{INSERT INTO budget (at) SELECT now() - interval '2 days' FROM generate_series(1, 10)});
sleep 3;
is($node->safe_psql('app', "SELECT count(*) FROM retention.runs WHERE policy_id = $c"), '4',
	'with the round over, new expired rows wait for the min_interval');
is($node->safe_psql('app', qq{SELECT next_run = (SELECT max(started_at) FROM retention.runs WHERE policy_id = $c) + interval '1 day'
	FROM retention.status WHERE policy_id = $c}), 't',
	'status: the next run is a day after the start of the run that ended the round');

# CALL retention.run() ignores windows and min_interval
$node->safe_psql('app', "SELECT retention.alter_policy($b, enabled => true)");
$node->safe_psql('app', q{CALL retention.run('budget'); CALL retention.run('slow')});
is($node->safe_psql('app', 'SELECT (SELECT count(*) FROM budget) + (SELECT count(*) FROM slow)'), '0',
	'CALL retention.run() runs them now');
unlike(slurp_file($node->logfile), qr/ERROR|WARNING|PANIC/, 'server log has no error');
$node->stop;
done_testing();
