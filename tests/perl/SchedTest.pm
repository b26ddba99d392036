# SchedTest.pm: helpers shared by the scheduler's TAP tests (tests/t/1NN_*.pl).
#
# Starts clusters with pg_retention preloaded and a short naptime, and polls
# for a state the background workers are expected to reach by themselves.
package SchedTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

use Exporter 'import';
our @EXPORT = qw(sched_node poll_until workers_in setup_events);

# Creates and starts a cluster with the library preloaded; extra lines go to postgresql.conf.
# With RT_TEST_WORKER_ROLE set (say RT_TEST_WORKER_ROLE=retention_worker scripts/test), the
# database workers log in as that role, created without any privilege but LOGIN
# (docs/operations.md#the-worker-role): every scheduler test then runs that way.
sub sched_node
{
	my ($name, @conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => (grep { $_ eq 'allows_streaming' } @conf) ? 1 : 0);
	@conf = grep { $_ ne 'allows_streaming' } @conf;
	$node->append_conf('postgresql.conf', join("\n",
		"shared_preload_libraries = 'pg_retention'",
		"timezone = 'UTC'", "log_timezone = 'UTC'",
		"retention.naptime = '1s'", @conf) . "\n");
	$node->start;
	if (my $role = $ENV{RT_TEST_WORKER_ROLE})
	{
		$node->safe_psql('postgres', "CREATE ROLE $role LOGIN");
		$node->append_conf('postgresql.conf', "retention.worker_role = '$role'\n");
		$node->reload;
	}
	return $node;
}

# Polls $sql on $db until it returns $want or $timeout seconds pass; returns the
# seconds it took, or undef (and the last value) on timeout.
sub poll_until
{
	my ($node, $db, $sql, $want, $timeout) = @_;
	my $start = time;
	my $got;
	while (time - $start < $timeout)
	{
		$got = $node->safe_psql($db, $sql);
		return wantarray ? (time - $start, $got) : time - $start if $got eq $want;
		sleep 0.2;
	}
	return wantarray ? (undef, $got) : undef;
}

# Returns the number of pg_retention workers connected to $db.
sub workers_in
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = '$db'");
}

# Creates table $tbl(id, at) in $db with $old rows two days old and $new rows
# of the last minute, and a delete policy keeping one hour; returns its id.
sub setup_events
{
	my ($node, $db, $tbl, $old, $new, %opt) = @_;
	my $batch = $opt{batch_size} ? ", batch_size => $opt{batch_size}" : '';
	return $node->safe_psql($db, qq{
		CREATE TABLE $tbl(id bigserial PRIMARY KEY, at timestamptz NOT NULL);
		INSERT INTO $tbl(at) SELECT now() - interval '2 days' FROM generate_series(1, $old);
		INSERT INTO $tbl(at) SELECT now() - interval '1 minute' FROM generate_series(1, $new);
		SELECT retention.add_policy('$tbl', interval '1 hour', 'at'$batch);
	});
}

1;
