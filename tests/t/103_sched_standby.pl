# Hot standby: a streaming standby with the library preloaded runs no scheduler
# process, logs no error and opens no connections over several naptimes; once
# promoted, the next naptime purges.  The primary keeps the scheduler paused
# (retention.enabled = off), so the expired rows are still there to purge.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use SchedTest;

my $primary = sched_node('primary', 'allows_streaming', 'retention.enabled = off');
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('app', 'CREATE EXTENSION pg_retention');
setup_events($primary, 'app', 'ev', 2000, 100);
$primary->backup('bk');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', "retention.enabled = on\n");
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('app', 'SELECT pg_is_in_recovery()'), 't', 'standby is in recovery');
is($standby->safe_psql('app', 'SHOW retention.enabled'), 'on', 'scheduler enabled on the standby');

# several naptimes on the standby: no scheduler process, no connections, no errors
my @counts;
for my $i (1 .. 5)
{
	push @counts, $standby->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'pg_retention%'");
	sleep 1;
}
is(join(',', @counts), '0,0,0,0,0', 'no scheduler process on the standby over five naptimes');
is($standby->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"),
	'0', 'no other connection opened on the standby');
is($standby->safe_psql('app', 'SELECT count(*) FROM ev'), '2100', 'nothing purged on the standby');
is($standby->safe_psql('app', 'SELECT next_run IS NULL FROM retention.status'), 't',
	'status: no next run on a standby');
unlike(slurp_file($standby->logfile), qr/ERROR|FATAL|WARNING|PANIC/, 'standby log has no error');

# promotion starts the scheduler: the next naptime purges
$standby->promote;
my $took = poll_until($standby, 'app', 'SELECT count(*) FROM ev', '100', 15);
ok(defined $took, 'promoted standby purges by itself');
note(sprintf('purged %.1f s after promotion', $took // -1));
is($standby->safe_psql('app', "SELECT rows || '/' || status || '/' || trigger FROM retention.runs"),
	'2000/success/worker', 'run recorded on the promoted server');
is($primary->safe_psql('app', 'SELECT count(*) FROM ev'), '2100', 'paused primary purged nothing');
# promotion itself stops the WAL receiver with a FATAL line; nothing else may complain
my @bad = grep { /ERROR|FATAL|WARNING|PANIC/ && !/terminating walreceiver process due to administrator command/ }
  split /\n/, slurp_file($standby->logfile);
is(join("\n", @bad), '', 'no error after promotion either');

$standby->stop;
$primary->stop;
done_testing();
