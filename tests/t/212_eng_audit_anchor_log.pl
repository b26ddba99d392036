# The database worker writes the head of the audit chain to the server log (an
# anchor outside the database); an anchor read back from the log detects a
# rewrite of the trail that recomputed the whole chain, which verify_audit()
# alone accepts.  A head that did not move is not logged again.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use SchedTest;

my $node = sched_node('anchor_log', "retention.audit_anchor_interval = '1s'");
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', q{
	CREATE EXTENSION pg_retention;
	CREATE TABLE visits(id int PRIMARY KEY, ip inet, at timestamptz);
	SELECT retention.tag('visits', 'ip', 'ip_address');
	SELECT retention.add_policy('visits', interval '30 days', 'at');});

# Returns the (seq, hash) pairs the worker logged for database shop, oldest first.
sub logged_anchors
{
	my @pairs;
	my $log = slurp_file($node->logfile);
	while ($log =~ /LOG:\s+pg_retention audit anchor: database "shop", seq (\d+), hash (\\x[0-9a-f]{64})/g)
	{
		push @pairs, [ $1, $2 ];
	}
	return @pairs;
}

# Waits until the worker logged an anchor for seq $seq; returns its hash.
sub wait_for_anchor
{
	my ($seq) = @_;
	for (1 .. 150)
	{
		my @hit = grep { $_->[0] == $seq } logged_anchors();
		return $hit[0][1] if @hit;
		sleep 0.2;
	}
	return undef;
}

my $head = $node->safe_psql('shop', 'SELECT seq FROM retention.audit_anchor()');
my $hash = wait_for_anchor($head);
ok(defined $hash, "the worker logged the head of the chain (seq $head)");
is($node->safe_psql('shop', "SELECT hash = '$hash' FROM retention.audit_anchor()"), 't',
	'the logged hash is the newest entry\'s');
is($node->safe_psql('shop', "SELECT ok FROM retention.verify_audit($head, '$hash')"), 't',
	'the logged anchor verifies');

# nothing changes: no new line; the trail grows: a new line
sleep 3;
is(scalar(grep { $_->[0] == $head } logged_anchors()), 1, 'an unchanged head is logged once');
$node->safe_psql('shop', q{SELECT retention.alter_policy(policy_id, basis => 'logs') FROM retention.policies});
my $head2 = $node->safe_psql('shop', 'SELECT seq FROM retention.audit_anchor()');
cmp_ok($head2, '>', $head, 'the trail grew');
ok(defined wait_for_anchor($head2), "the worker logged the new head (seq $head2)");

# a superuser rewrites the trail from seq 2 on and lets a new chain grow
$node->safe_psql('shop', q{
	ALTER TABLE retention.audit DISABLE TRIGGER USER;
	DELETE FROM retention.audit WHERE seq >= 2;
	UPDATE retention.audit_head SET seq = 1;
	ALTER TABLE retention.audit ENABLE TRIGGER USER;
	SELECT retention.alter_policy(policy_id, basis => 'nothing to see') FROM retention.policies;
	SELECT retention.alter_policy(policy_id, keep => '31 days') FROM retention.policies;
	SELECT retention.alter_policy(policy_id, keep => '30 days') FROM retention.policies;});
is($node->safe_psql('shop', 'SELECT ok FROM retention.verify_audit()'), 't',
	'the recomputed chain passes verify_audit() alone');
is($node->safe_psql('shop', "SELECT ok, first_bad FROM retention.verify_audit($head, '$hash')"),
	"f|$head", 'the anchor from the log names the rewrite');

# the log line carries nothing but the database, the seq and the hash
my @lines = grep { /audit anchor/ } split /\n/, slurp_file($node->logfile);
is(scalar(grep { !/LOG:\s+pg_retention audit anchor: database "shop", seq \d+, hash \\x[0-9a-f]{64}$/ } @lines),
	0, 'every anchor line has the documented form');

# 0 turns the lines off
$node->append_conf('postgresql.conf', "retention.audit_anchor_interval = 0\n");
$node->reload;
sleep 2;
my $before = scalar(logged_anchors());
$node->safe_psql('shop', q{SELECT retention.alter_policy(policy_id, basis => 'quiet') FROM retention.policies});
sleep 3;
is(scalar(logged_anchors()), $before, 'retention.audit_anchor_interval = 0 logs no anchor');

done_testing();
