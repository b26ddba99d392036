# The adaptive throttle against a standby's replay lag (docs/operations.md#protecting-the-workload):
# with a lag limit of 100 ms and a standby that applies every commit 300 ms late
# (recovery_min_apply_delay), a run halves its batches down to 100 rows and waits for the
# standby, yet keeps deleting at retention.min_purge_rate and ends with every expired row
# gone; once the standby keeps up, the same run starts small and soon goes at full batches.  Fixed runs never
# look.  A policy's own throttle (retention.set_throttle) overrides the setting.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SchedTest;

my $rows = 100000;
my $primary = sched_node('primary', 'allows_streaming', 'retention.enabled = off');
$primary->safe_psql('postgres', 'CREATE DATABASE app');
$primary->safe_psql('app', qq{
	CREATE EXTENSION pg_retention;
	CREATE TABLE ev (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text);
	CREATE INDEX ON ev (at);
});
my $policy = $primary->safe_psql('app',
	q{SELECT retention.add_policy('ev', interval '1 day', 'at', batch_size => 200)});
$primary->backup('bk');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bk', has_streaming => 1);
$standby->append_conf('postgresql.conf', "recovery_min_apply_delay = '300ms'\n");
$standby->start;

sub fill
{
	$primary->safe_psql('app', qq{
		TRUNCATE ev;
		INSERT INTO ev SELECT g, now() - interval '2 days', md5(g::text) FROM generate_series(1, $rows) g;
		INSERT INTO ev SELECT $rows + g, now(), 'fresh' FROM generate_series(1, 100) g;
	});
	$primary->wait_for_catchup($standby);
}

# the run's throttle settings: a lag limit of 100 ms, at least 20000 rows a second, and no
# limit on a batch's own time (the lag alone decides here)
my $settings = q{SET retention.max_replica_lag = '100ms'; SET retention.min_purge_rate = 20000;
	SET retention.max_batch_time = '1min';};
my $last_run = q{SELECT rows || '|' || batches || '|' || coalesce(notes, '')
	FROM retention.runs ORDER BY run_id DESC LIMIT 1};

# fixed (the default): full batches, whatever the standby does
fill();
$primary->safe_psql('app', "$settings CALL retention.run('ev')");
my ($n, $batches, $notes) = split /\|/, $primary->safe_psql('app', $last_run), 3;
is("$n|$batches", "$rows|500", 'fixed: 500 batches of 200, though the standby is 300 ms behind');
is($notes, '', 'fixed: no throttle in the notes');
$primary->wait_for_catchup($standby);

# adaptive for this policy only: the run slows down to the standby
$primary->safe_psql('app', "SELECT retention.set_throttle($policy, 'adaptive')");
is($primary->safe_psql('app', 'SELECT throttle FROM retention.policy_throttles'), 'adaptive',
	'the policy has its own throttle');
fill();
my $t0 = time;
$primary->safe_psql('app', "$settings CALL retention.run('ev')");
my $took = time - $t0;
($n, $batches, $notes) = split /\|/, $primary->safe_psql('app', $last_run), 3;
is($n, $rows, 'adaptive: every expired row is gone all the same');
is($primary->safe_psql('app', q{SELECT count(*) FROM ev WHERE at < now() - interval '1 day'}), '0',
	'none is left');
like($notes, qr/held back by.* replica lag \(\d+x, retention\.max_replica_lag 100 ms\)/,
	'the notes say the replica lag held it back');
like($notes, qr/batches of 100 to 200 rows/, 'its batches shrank down to 100 rows');
cmp_ok($batches, '>', 600, "in many small batches ($batches)");
my ($lag) = $notes =~ /largest replica lag seen (\d+) ms/;
cmp_ok($lag, '>', 100, "it saw the lag over the limit ($lag ms)");
# it waited for the standby, but never slower than retention.min_purge_rate: 100000 rows at
# 20000 a second take 5 s, plus the batches themselves
cmp_ok($took, '>', 2, sprintf('it waited for the standby (%.1f s)', $took));
cmp_ok($took, '<', 30, 'and never slower than retention.min_purge_rate');
$primary->wait_for_catchup($standby);

# the standby keeps up: the adaptive run starts at 100 rows (a lag limit is set), grows to
# full batches, and no lag holds it back
$standby->append_conf('postgresql.conf', "recovery_min_apply_delay = 0\n");
$standby->reload;
fill();
$primary->safe_psql('app', "$settings CALL retention.run('ev')");
($n, $batches, $notes) = split /\|/, $primary->safe_psql('app', $last_run), 3;
is($n, $rows, 'with the standby replaying, every row goes');
unlike($notes, qr/replica lag \(/, 'and the lag did not hold it back');
like($notes, qr/batches of 100 to 200 rows/, 'from 100 rows up to full batches');
cmp_ok($batches, '<', 510, "full batches soon: $batches batches for $rows rows");

# a synchronous standby named but none connected, and the session at synchronous_commit =
# local: the run must not make its commits wait for one (review finding: remote_apply
# made it hang until statement_timeout)
fill();
$primary->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'ghost'});
$primary->reload;
$t0 = time;
my ($rc, $out, $err) = $primary->psql('app',
	"$settings SET synchronous_commit = local; SET statement_timeout = '20s'; CALL retention.run('ev')");
$took = time - $t0;
is($rc, 0, 'a run with a lag limit and no synchronous standby connected ends') or diag($err);
cmp_ok($took, '<', 15, sprintf('without waiting for the missing standby (%.1f s)', $took));
is($primary->safe_psql('app', q{SET synchronous_commit = local; SELECT count(*) FROM ev WHERE at < now() - interval '1 day'}), '0',
	'and every expired row is gone');
$primary->safe_psql('postgres', q{SET synchronous_commit = local; ALTER SYSTEM RESET synchronous_standby_names});
$primary->reload;
$primary->wait_for_catchup($standby);

# back to the setting: fixed again
$primary->safe_psql('app', "SELECT retention.set_throttle($policy, NULL)");
is($primary->safe_psql('app', 'SELECT count(*) FROM retention.policy_throttles'), '0', 'the policy follows the setting again');
unlike(slurp_file($primary->logfile), qr/ERROR|PANIC/, 'primary log has no error');
$standby->stop;
$primary->stop;
done_testing();
