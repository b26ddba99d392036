# What a run checks after its batches, where it needs time and the worker:
# a table rewritten between two batches (VACUUM FULL, CLUSTER) makes the scan
# start over instead of leaving the rows that moved before its position; rows
# row-level security hides from the owner make the worker's runs incomplete,
# and the worker backs off such a policy instead of running it every pass.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SchedTest;

my $node = sched_node('run_truth', 'retention.enabled = off');
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_retention;
	CREATE TABLE visits (id int PRIMARY KEY, path text, at timestamptz NOT NULL);
	INSERT INTO visits SELECT g, repeat('x', 200), CASE WHEN g % 6 = 0 THEN now() ELSE timestamptz '2020-01-01' END
	  FROM generate_series(1, 12000) g;
	SELECT retention.add_policy('visits', '30 days', 'at', batch_size => 1000);
});

# kind 8: VACUUM FULL between two batches of a run (batch_pause leaves room for it)
my $run = $node->background_psql('postgres', on_error_stop => 0);
$run->query_until(qr/started/, q{
	SET retention.batch_pause = '1500ms';
	\echo started
	CALL retention.run('visits');
	\echo finished
});
my $first = $node->poll_query_until('postgres',
	q{SELECT rows > 0 FROM retention.runs WHERE status = 'running'});
ok($first, 'the run has committed its first batch');
my $filenode = $node->safe_psql('postgres', q{SELECT pg_relation_filenode('visits')});
$node->safe_psql('postgres', 'VACUUM FULL visits');
isnt($node->safe_psql('postgres', q{SELECT pg_relation_filenode('visits')}), $filenode,
	'VACUUM FULL rewrote the table between two batches');
$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM retention.runs WHERE status = 'running'});
$run->quit;
is($node->safe_psql('postgres', q{SELECT count(*) FROM visits WHERE at < now() - interval '30 days'}), '0',
	'no expired row is left behind the position the rewrite invalidated');
is($node->safe_psql('postgres', q{SELECT count(*) FROM visits}), '2000', 'the 2000 live rows stay');
is($node->safe_psql('postgres', q{SELECT rows || '/' || status || '/' || rows_left FROM retention.runs}),
	'10000/success/0', 'the run deleted all 10000 expired rows and says success');
like($node->safe_psql('postgres', q{SELECT notes FROM retention.runs}),
	qr/public\.visits was rewritten during the run \(CLUSTER, VACUUM FULL or a rewriting ALTER TABLE\): its scan started over/,
	'and notes the rewrite');

# a partition left detach pending (its DETACH ... CONCURRENTLY was cancelled while it
# waited for a reader): batches do not see it, yet its rows are there: never success
$node->safe_psql('postgres', q{
	CREATE TABLE readings (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE readings_2020 PARTITION OF readings FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
	CREATE TABLE readings_now PARTITION OF readings FOR VALUES FROM ('2021-01-01') TO ('2100-01-01');
	INSERT INTO readings SELECT g, timestamptz '2020-03-01' FROM generate_series(1, 300) g;
	INSERT INTO readings SELECT g, now() FROM generate_series(1, 10) g;
	SELECT retention.add_policy('readings', '30 days', 'at');
});
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN; SELECT count(*) FROM readings');
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET statement_timeout = '1s'; ALTER TABLE readings DETACH PARTITION readings_2020 CONCURRENTLY});
like($err, qr/canceling statement due to statement timeout/, 'a concurrent detach is cancelled while it waits for a reader');
is($node->safe_psql('postgres', q{SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'readings_2020'::regclass}),
	't', 'and leaves the partition detach pending');
($ret, $out, $err) = $node->psql('postgres', q{SET retention.lock_timeout = '500ms'; CALL retention.run('readings')});
isnt($ret, 0, 'a run while the reader still holds its snapshot does not say success');
is($node->safe_psql('postgres', q{SELECT status || '/' || rows_left FROM retention.runs
	WHERE tbl = 'public.readings' ORDER BY run_id DESC LIMIT 1}), 'incomplete/300',
	'it is incomplete with the 300 rows of the pending partition left');
like($node->safe_psql('postgres', q{SELECT cause FROM retention.runs WHERE tbl = 'public.readings' ORDER BY run_id DESC LIMIT 1}),
	qr/partition public\.readings_2020 is left detach pending .* still holds 300 expired rows/, 'and names the partition');
$reader->query_safe('COMMIT');
$reader->quit;
($ret, $out, $err) = $node->psql('postgres', q{CALL retention.run('readings')});
is($ret, 0, 'once the reader is gone the next run finishes the detach') or diag $err;
is($node->safe_psql('postgres', q{SELECT status || '/' || rows || '/' || partitions FROM retention.runs
	WHERE tbl = 'public.readings' ORDER BY run_id DESC LIMIT 1}), 'success/300/1', 'and removes the partition with its 300 rows');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'readings_2020'}), '0', 'the partition is gone');

# kind 1 and the worker: rows hidden from the owner by forced row-level security
$node->safe_psql('postgres', q{
	CREATE ROLE tenant_app LOGIN;
	CREATE TABLE notes (id int PRIMARY KEY, tenant int, note text, at timestamptz);
	ALTER TABLE notes OWNER TO tenant_app;
	INSERT INTO notes SELECT g, g % 2, 'note ' || g, timestamptz '2020-01-01' FROM generate_series(1, 40) g;
	ALTER TABLE notes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
	CREATE POLICY tenant_one ON notes USING (tenant = 1);
});
$node->safe_psql('postgres', q{SET ROLE tenant_app; SELECT retention.add_policy('notes', '30 days', 'at')});
is($node->safe_psql('postgres', q{SELECT rows_due || '/' || rows_hidden FROM retention.preview() WHERE tbl = 'notes'::regclass}),
	'20/20', 'preview: 20 rows the owner sees, 20 row-level security hides');
$node->safe_psql('postgres', q{ALTER SYSTEM SET retention.enabled = on; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'postgres',
	q{SELECT count(*) FROM retention.runs WHERE tbl = 'public.notes' AND status = 'incomplete'}, '1', 30),
	'the worker records an incomplete run');
is($node->safe_psql('postgres', q{SELECT rows || '/' || rows_left || '/' || cause FROM retention.runs
	WHERE tbl = 'public.notes' ORDER BY run_id LIMIT 1}),
	'20/20/row-level security policy tenant_one on public.notes hides 20 rows from the table owner',
	'it deleted the 20 rows it could see and names the policy that hides the other 20');
is($node->safe_psql('postgres', 'SELECT count(*) FROM notes'), '20', 'the hidden rows are still there');
my $t0 = $node->safe_psql('postgres', 'SELECT now()');
sleep 10.5;
my $runs = $node->safe_psql('postgres',
	qq{SELECT count(*) FROM retention.runs WHERE tbl = 'public.notes' AND started_at >= '$t0'});
cmp_ok($runs, '<=', 4, "the worker backs off the incomplete policy ($runs runs in 10 s at a 1 s naptime)");
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT status, ',') FROM retention.runs WHERE tbl = 'public.notes'}),
	'incomplete', 'every run of it says incomplete, none success');
like(slurp_file($node->logfile),
	qr/LOG:  retention policy \d+ on public\.notes is incomplete: 20 expired rows left: row-level security policy tenant_one/,
	'the server log says so');
$node->stop;
done_testing();
