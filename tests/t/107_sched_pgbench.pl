# A live workload: pgbench runs for a minute while a policy keeps
# pgbench_history to the last 10 seconds.  The scheduler alone keeps the table
# bounded (no row older than 10 s plus a few naptimes is ever seen), pgbench
# reports no failed transaction, and no run fails.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SchedTest;

my $node = sched_node('pgbench');
$node->safe_psql('postgres', 'CREATE DATABASE bench');
$node->command_ok([ 'pgbench', '-i', '-s', '1', '-q', $node->connstr('bench') ], 'pgbench -i');
$node->safe_psql('bench', q{
	CREATE EXTENSION pg_retention;
	SET retention.min_keep = '1s';
	SELECT retention.add_policy('pgbench_history', interval '10 seconds', 'mtime');
});

my ($out, $err) = ('', '');
my $h = IPC::Run::start([ 'pgbench', '-c', '4', '-j', '2', '-T', '60', '-n', $node->connstr('bench') ],
	'>', \$out, '2>', \$err);

# sample the age of the oldest row and the row count while pgbench runs
my ($max_age, $max_rows, $samples) = (0, 0, 0);
my $start = time;
while (time - $start < 58)
{
	sleep 2;
	my ($rows, $age) = split /\|/, $node->safe_psql('bench',
		"SELECT count(*), COALESCE(extract(epoch FROM localtimestamp - min(mtime)), 0) FROM pgbench_history");
	next if time - $start < 12;		# the first rows are not due before 10 s
	$samples++;
	$max_age = $age if $age > $max_age;
	$max_rows = $rows if $rows > $max_rows;
}
$h->finish;
is($h->result(0), 0, 'pgbench exits 0');
like($out, qr/number of failed transactions: 0 /, 'pgbench reports no failed transaction');
my ($tps) = $out =~ /tps = ([\d.]+)/;
note("pgbench: $tps tps; oldest row seen ${max_age}s old; at most $max_rows rows");
cmp_ok($samples, '>=', 20, "sampled the table $samples times");
cmp_ok($max_age, '<', 14, "no row older than 10 s + 4 naptimes was ever seen (oldest: $max_age s)");
cmp_ok($max_rows, "<", 20 * $tps, "table stayed bounded ($max_rows rows at most at $tps tps)");
is($node->safe_psql('bench', "SELECT count(*) FROM retention.runs WHERE status NOT IN ('success', 'running')"),
	'0', 'no run failed');
cmp_ok($node->safe_psql('bench', 'SELECT sum(rows) FROM retention.runs'), '>', 0, 'the worker deleted rows');
unlike(slurp_file($node->logfile), qr/ERROR|WARNING|PANIC/, 'server log has no error');

$node->stop;
done_testing();
