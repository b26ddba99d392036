# The scheduler enforces policies in two databases by itself: the extension is
# created after the server started, no one calls retention.run(), and within a
# few naptimes each table holds exactly its unexpired rows.  The runs are
# recorded as the worker's, retention.status shows the next run, idle passes
# record nothing, and rows that expire later are purged on a later pass.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('two_databases');

for my $db ('one', 'two')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_retention');
	setup_events($node, $db, 'ev', 3000 + ($db eq 'two' ? 1000 : 0), 59);
}

for my $db ('one', 'two')
{
	my $took = poll_until($node, $db, 'SELECT count(*) FROM ev', '59', 10);
	ok(defined $took, "$db: expired rows purged by the worker within 10 s")
	  and note(sprintf("$db purged %.1f s after its policy was declared", $took));
	is($node->safe_psql($db, "SELECT count(*) FROM ev WHERE at < now() - interval '1 hour'"), '0',
		"$db: no expired row left");
	is($node->safe_psql($db,
		"SELECT rows || '/' || status || '/' || trigger FROM retention.runs ORDER BY run_id"),
		($db eq 'one' ? 3000 : 4000) . '/success/worker', "$db: one successful worker run with exact count");
	is(workers_in($node, $db), '1', "$db: one worker connected");
}

# status: next_run is the worker's next pass, within a naptime
is($node->safe_psql('one',
	"SELECT next_run >= now() AND next_run <= now() + interval '2 seconds', last_status, rows_overdue
	   FROM retention.status"), 't|success|0', 'status: next run within a naptime, nothing overdue');

# idle passes (nothing expired) record no runs
sleep 3;
is($node->safe_psql('one', 'SELECT count(*) FROM retention.runs'), '1', 'idle passes record no run');

# rows that expire later (here: inserted late with an old anchor) are purged on a later pass
$node->safe_psql('one', "INSERT INTO ev(at) SELECT now() - interval '3 days' FROM generate_series(1, 250)");
ok(defined poll_until($node, 'one', 'SELECT count(*) FROM ev', '59', 10), 'late expired rows purged');
is($node->safe_psql('one', "SELECT string_agg(rows::text, ',' ORDER BY run_id) FROM retention.runs"),
	'3000,250', 'second run deleted exactly the late rows');

# the postgres database has no extension: no worker stays there
is(workers_in($node, 'postgres'), '0', 'no worker lingers in a database without the extension');

my $log = slurp_file($node->logfile);
unlike($log, qr/ERROR|FATAL|WARNING/, 'server log has no error or warning');

$node->stop;
done_testing();
