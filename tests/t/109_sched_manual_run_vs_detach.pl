# CALL retention.run() while the background worker runs the same policy and removes
# expired partitions never deadlocks with the worker's detach.  DETACH ... CONCURRENTLY
# waits for every transaction that has locked the partitioned table, DETACH ... FINALIZE
# for every transaction whose snapshot is older than its own; a manual run queued for
# the policy's run lock while holding either closed a cycle, and the deadlock detector
# killed one of the two (40P01).  Now:
#  - outside a transaction block the manual run commits, then waits with no snapshot
#    and no lock on the table, and runs what is left once the worker is done;
#  - inside a transaction block it polls for the lock without queueing: it stops at
#    once with 55P03 when the worker waits for its transaction, and otherwise runs as
#    soon as the worker is done, within retention.lock_timeout.
# And the worker's own DETACH ... CONCURRENTLY completes: its second transaction ran
# the extension's ddl_command_end trigger with no snapshot, failed, and left the
# partition to DETACH ... FINALIZE, which waits for every older snapshot in the
# database, related to the table or not.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SchedTest;

# the worker is slow to look for deadlocks, the manual sessions quick: a cycle would
# be reported to the manual run, as an ERROR it cannot miss
my $node = sched_node('manual_vs_detach', 'retention.lock_timeout = 30s', 'deadlock_timeout = 10s',
	'retention.max_run_time = 0');
my $q = sub { $node->safe_psql('postgres', shift) };
$q->('CREATE EXTENSION pg_retention');
$q->('CREATE TABLE elsewhere (id int)');
$q->('INSERT INTO elsewhere VALUES (1)');

ok(defined poll_until($node, 'postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'}, '1', 30),
	'a worker serves the database');
my $wpid = $q->(q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'});

# a partitioned table: January and February 2024 (1440 rows) lie wholly before any
# cutoff of now() - 30 days, ten rows of today in the current partition
sub make_table
{
	my ($t) = @_;
	$q->(qq{
		CREATE TABLE $t (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
		CREATE TABLE ${t}_2024_01 PARTITION OF $t FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00');
		CREATE TABLE ${t}_2024_02 PARTITION OF $t FOR VALUES FROM ('2024-02-01 00:00+00') TO ('2024-03-01 00:00+00');
		CREATE TABLE ${t}_now PARTITION OF $t FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2100-01-01 00:00+00');
		INSERT INTO $t SELECT g, timestamptz '2024-01-01 00:00+00' + g * interval '1 hour' FROM generate_series(0, 1439) g;
		INSERT INTO $t SELECT g, now() FROM generate_series(1, 10) g;
	});
}

# the runs of a table's policy, oldest first: trigger:status:rows:partitions
sub runs_of
{
	my ($t) = @_;
	return $q->(qq{SELECT string_agg(trigger || ':' || status || ':' || rows || ':' || partitions, ',' ORDER BY run_id)
	                 FROM retention.runs WHERE tbl = 'public.$t'});
}

# what is left of a table: rows, rows before March, expired partitions, pending detaches
sub left_of
{
	my ($t) = @_;
	return $q->(qq{SELECT (SELECT count(*) FROM $t) || ':' || (SELECT count(*) FROM $t WHERE at < '2024-03-01 00:00+00')
	                 || ':' || (SELECT count(*) FROM pg_class WHERE relname IN ('${t}_2024_01', '${t}_2024_02'))
	                 || ':' || (SELECT count(*) FROM pg_inherits WHERE inhdetachpending)});
}

# the partitions of a table the worker dropped, and whether concurrently
sub dropped_of
{
	my ($t) = @_;
	return $q->(qq{SELECT string_agg(tbl || ':' || rows || ':' || (details->>'concurrently'), ',' ORDER BY seq)
	                 FROM retention.audit WHERE event = 'partition_dropped' AND tbl LIKE 'public.${t}\\_%'});
}

# waits until the worker's run of a table's policy has ended
sub worker_done
{
	my ($t) = @_;
	return poll_until($node, 'postgres',
		qq{SELECT count(*) FROM retention.runs WHERE tbl = 'public.$t' AND trigger = 'worker' AND status <> 'running'},
		'1', 90);
}

# a manual session: superuser, quick to look for deadlocks
sub manual_session
{
	my $s = $node->background_psql('postgres', on_error_stop => 0);
	$s->query_safe(q{SET deadlock_timeout = '1s'});
	return ($s, $s->query_safe('SELECT pg_backend_pid()'));
}

# holds retention.run_history, so that a worker run stops right after taking its run lock
sub block_run_history
{
	my $b = $node->background_psql('postgres');
	$b->query_safe('BEGIN');
	$b->query_safe('LOCK TABLE retention.run_history IN EXCLUSIVE MODE');
	return $b;
}

# waits until the worker holds a run lock and waits for retention.run_history
sub worker_held_at_start
{
	return poll_until($node, 'postgres',
		qq{SELECT count(*) FILTER (WHERE locktype = 'relation' AND relation = 'retention.run_history'::regclass AND NOT granted)
		       || ':' || count(*) FILTER (WHERE locktype = 'advisory' AND objsubid = 21076 AND granted)
		     FROM pg_locks WHERE pid = $wpid}, '1:1', 60);
}

# waits until the session pid queues for a policy's run lock
sub queued_for_run_lock
{
	my ($pid) = @_;
	return poll_until($node, 'postgres',
		qq{SELECT count(*) FROM pg_locks WHERE pid = $pid AND locktype = 'advisory' AND objsubid = 21076 AND NOT granted},
		'1', 60);
}

my ($ret, $out, $err);

# 1. the worker's concurrent detach is not held up by an unrelated old snapshot
make_table('t1');
my $old = $node->background_psql('postgres');
$old->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
$old->query_safe('SELECT count(*) FROM elsewhere');
$q->(q{SELECT retention.add_policy('t1', '30 days', 'at')});
ok(defined worker_done('t1'), 'the worker ran the new policy on t1');
is(runs_of('t1'), 'worker:success:1440:2', 'it removed both expired partitions whole, while an old snapshot stayed open');
is($q->(q{SELECT coalesce(notes, '') FROM retention.runs WHERE tbl = 'public.t1'}), '', 'with no partition gone by rows');
is(dropped_of('t1'), 'public.t1_2024_01:744:true,public.t1_2024_02:696:true', 'both detached concurrently, and audited');
is(left_of('t1'), '10:0:0:0', 'the ten recent rows are left, no expired row, partition or pending detach');
$old->query_safe('COMMIT');
$old->quit;
$q->(q{SELECT retention.drop_policy(policy_id) FROM retention.policies});

# 2. the manual run waits, without a snapshot, while the worker's concurrent detach
# waits for a reader of the table
make_table('t2');
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN');
$reader->query_safe('SELECT count(*) FROM t2');
$q->(q{SELECT retention.add_policy('t2', '30 days', 'at')});
ok(defined poll_until($node, 'postgres',
		qq{SELECT wait_event FROM pg_stat_activity WHERE pid = $wpid}, 'virtualxid', 60),
	'the worker detaches concurrently and waits for the reader');
my ($m, $mpid) = manual_session();
$m->query_until(qr/sent/, "\\echo sent\nCALL retention.run('t2');\n");
ok(defined queued_for_run_lock($mpid), 'the manual run queues for the run lock');
is($q->(qq{SELECT coalesce(backend_xmin::text, 'none') || ':' || (SELECT count(*) FROM pg_locks WHERE pid = $mpid AND locktype = 'relation')
             FROM pg_stat_activity WHERE pid = $mpid}), 'none:0', 'holding no snapshot and no relation lock');
$reader->query_safe('COMMIT');
$reader->quit;
$m->query('SELECT 1');
like($m->{stderr}, qr/NOTICE:  retention policy \d+ on public\.t2 is running in another session; waiting for that run to finish/,
	'the manual run said it waits');
like($m->{stderr}, qr/NOTICE:  retention policy \d+ on public\.t2: 0 rows deleted in 0 batches/, 'then ran, finding nothing left');
unlike($m->{stderr}, qr/ERROR/, 'without an error');
$m->quit;
is(runs_of('t2'), 'worker:success:1440:2,manual:success:0:0', 'the worker removed both partitions, then the manual run succeeded');
is(dropped_of('t2'), 'public.t2_2024_01:744:true,public.t2_2024_02:696:true', 'concurrently');
is(left_of('t2'), '10:0:0:0', 'nothing expired is left');
$q->(q{SELECT retention.drop_policy(policy_id) FROM retention.policies});

# 3. the worker finalizes a detach left pending, which waits for every older snapshot;
# the manual run that waits for it holds none
make_table('t3');
my $pin = $node->background_psql('postgres');
$pin->query_safe('BEGIN');
$pin->query_safe('SELECT count(*) FROM t3');
my $detacher = $node->background_psql('postgres', on_error_stop => 0);
$detacher->query_until(qr/sent/, "\\echo sent\nALTER TABLE t3 DETACH PARTITION t3_2024_01 CONCURRENTLY;\n");
ok(defined poll_until($node, 'postgres',
		q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE t3 DETACH%' AND wait_event = 'virtualxid'}, '1', 60),
	'a hand-made concurrent detach waits for a reader');
$q->(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE t3 DETACH%'});
ok(defined poll_until($node, 'postgres',
		q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 't3_2024_01'::regclass AND inhdetachpending}, '1', 30),
	'cancelled, it leaves January detach pending');
$detacher->quit;
$pin->query_safe('COMMIT');
$pin->quit;
my $blocker = block_run_history();
$q->(q{SELECT retention.add_policy('t3', '30 days', 'at')});
ok(defined worker_held_at_start(), 'the worker took the run lock of the new policy and waits for retention.run_history');
($m, $mpid) = manual_session();
$m->query_until(qr/sent/, "\\echo sent\nCALL retention.run('t3');\n");
ok(defined queued_for_run_lock($mpid), 'the manual run queues for the run lock');
is($q->(qq{SELECT coalesce(backend_xmin::text, 'none') FROM pg_stat_activity WHERE pid = $mpid}), 'none',
	'with no snapshot');
$blocker->query_safe('COMMIT');
$blocker->quit;
$m->query('SELECT 1');
unlike($m->{stderr}, qr/deadlock detected|ERROR/, 'no deadlock, no error');
like($m->{stderr}, qr/NOTICE:  retention policy \d+ on public\.t3: 0 rows deleted in 0 batches/, 'the manual run found nothing left');
$m->quit;
ok(defined worker_done('t3'), 'the worker run ended');
is(runs_of('t3'), 'worker:success:1440:2,manual:success:0:0', 'the worker finalized January, removed February, and succeeded; so did the manual run');
is(dropped_of('t3'), 'public.t3_2024_01:744:false,public.t3_2024_02:696:true', 'January finalized, February detached concurrently');
is(left_of('t3'), '10:0:0:0', 'nothing expired is left, no detach pending');
$q->(q{SELECT retention.drop_policy(policy_id) FROM retention.policies});

# 4. in a transaction block that read the table, the worker's concurrent detach waits
# for the manual run's transaction: the call stops at once with 55P03
make_table('t4');
$blocker = block_run_history();
$q->(q{SELECT retention.add_policy('t4', '30 days', 'at')});
ok(defined worker_held_at_start(), 'the worker took the run lock of the new policy and waits for retention.run_history');
($m, $mpid) = manual_session();
$m->query_safe(q{BEGIN});
$m->query_safe(q{SET LOCAL retention.lock_timeout = '20s'});
$m->query_safe(q{SELECT count(*) FROM t4});
$blocker->query_safe('COMMIT');
$blocker->quit;
ok(defined poll_until($node, 'postgres', qq{SELECT $mpid = ANY (pg_blocking_pids($wpid))}, 't', 60),
	'the worker detaches concurrently and waits for the transaction');
$m->{stderr} = '';
$m->query(q{\set VERBOSITY verbose});
my $start = time;
$m->query(q{CALL retention.run('t4')});
my $took = time - $start;
like($m->{stderr}, qr/ERROR:  55P03: retention policy \d+ on public\.t4 is running in another session\n.*DETAIL:  That run waits for this transaction/s,
	'the call stops with 55P03: the other run waits for this transaction');
like($m->{stderr}, qr/HINT:  Call retention\.run\(\) outside a transaction block/, 'and says what to do');
cmp_ok($took, '<', 10, 'at once, not after retention.lock_timeout (20 s)');
unlike($m->{stderr}, qr/deadlock detected/, 'no deadlock');
$m->query('ROLLBACK');
$m->quit;
ok(defined worker_done('t4'), 'the worker run ended once the transaction did');
is(runs_of('t4'), 'worker:success:1440:2', 'it removed both partitions; the manual call left no run record');
is(left_of('t4'), '10:0:0:0', 'nothing expired is left');
$q->(q{SELECT retention.drop_policy(policy_id) FROM retention.policies});

# 5. in a transaction block that did not touch the table, the call waits for the
# worker (whose concurrent detach waits for a reader), then runs
make_table('t5');
$reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN');
$reader->query_safe('SELECT count(*) FROM t5');
$q->(q{SELECT retention.add_policy('t5', '30 days', 'at')});
ok(defined poll_until($node, 'postgres',
		qq{SELECT wait_event FROM pg_stat_activity WHERE pid = $wpid}, 'virtualxid', 60),
	'the worker detaches concurrently and waits for the reader');
($m, $mpid) = manual_session();
$m->query_safe(q{BEGIN});
$m->query_safe(q{SET LOCAL retention.lock_timeout = '60s'});
$m->query_until(qr/sent/, "\\echo sent\nCALL retention.run('t5');\n");
ok(defined poll_until($node, 'postgres',
		qq{SELECT wait_event_type || ':' || state FROM pg_stat_activity WHERE pid = $mpid}, 'Extension:active', 60),
	'the call polls for the run lock');
is($q->(qq{SELECT count(*) FROM pg_locks WHERE pid = $mpid AND locktype = 'advisory' AND NOT granted}), '0',
	'without queueing for it');
$reader->query_safe('COMMIT');
$reader->quit;
$m->query('SELECT 1');
like($m->{stderr}, qr/NOTICE:  retention policy \d+ on public\.t5 is running in another session; waiting at most 60000 ms \(retention\.lock_timeout\) for that run to finish/,
	'the call said how long it waits');
like($m->{stderr}, qr/NOTICE:  retention policy \d+ on public\.t5: 0 rows deleted in 0 batches/, 'then ran, finding nothing left');
unlike($m->{stderr}, qr/ERROR/, 'without an error');
$m->{stderr} = '';
$m->query_safe('COMMIT');
$m->quit;
is(runs_of('t5'), 'worker:success:1440:2,manual:success:0:0', 'both runs succeeded');
is(left_of('t5'), '10:0:0:0', 'nothing expired is left');

unlike(slurp_file($node->logfile), qr/deadlock detected|PANIC|TRAP/, 'no deadlock in the server log');
$node->stop;
done_testing();
