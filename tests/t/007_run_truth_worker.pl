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
