# A promoted streaming standby is not a restore: it runs in the same system
# and database as the primary, holds every erasure the primary committed and
# reaches every audit anchor the primary's worker wrote to the shared ledger
# file.  After the failover no restore is recognized, nothing is replayed and
# nothing waits: the policies run on the first pass.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use RestoreTest;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $primary = restore_node('primary', $dir);
setup_shop($primary, 'shop', $dir, 20);
my $p = sub { $primary->safe_psql('shop', shift) };
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# erasures and audited changes on the primary; its worker anchors them in the file
$p->(q{SELECT count(*) FROM generate_series(1, 3) g, retention.erase_subject('customer', g::text)});
$p->(q{SELECT retention.hold('customer', '4', 'an inquiry')});
ok(defined poll_until($primary, 'shop', q{SELECT count(*) > 0 FROM retention.ledger_entries() WHERE type = 'anchor'}, 't', 30),
	'the primary anchors its audit trail in the ledger file');
sleep 2;
# the worker stops before the failover, the expired rows arrive last
$primary->append_conf('postgresql.conf', "retention.enabled = off\n");
$primary->reload;
$primary->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'})
  or die 'the worker did not leave';
$p->(q{SELECT retention.alter_policy(policy_id, enabled => true) FROM retention.policies});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('shop', q{SELECT count(*) FROM customer WHERE id <= 3}), '0', 'the standby has the erasures');
is($standby->safe_psql('shop', q{SELECT count(*) FROM retention.audit}), $p->(q{SELECT count(*) FROM retention.audit}),
	'and the whole audit trail');
is($standby->safe_psql('shop', q{SELECT count(*) FROM visits}), '100', 'and the expired visits');

# failover
$primary->stop;
$standby->promote;
my $took = poll_until($standby, 'shop', q{SELECT count(*) FROM visits}, '0', 30);
ok(defined $took, 'the promoted standby runs the policies on its first passes');
note(sprintf('purged %.1f s after promotion', $took // -1));
my $s = sub { $standby->safe_psql('shop', shift) };
is($s->(q{SELECT count(*) FROM retention.restores}), '0', 'no restore recognized');
is($s->(q{SELECT count(*) FROM retention.status WHERE restore_grace_until IS NOT NULL}), '0', 'nothing waits');
is($s->(q{SELECT count(*) FROM retention.audit WHERE event IN ('restore_recognized', 'erasures_restored', 'erasures_replayed')}),
	'0', 'nothing replayed');
is($s->(q{SELECT string_agg(status, ',') FROM retention.runs}), 'success', 'one run, recorded');
is(count_in_log($standby, qr/is a restore or a copy|ledger file/), 0, 'no restore and no ledger file problem in the log');
# the promoted server goes on with the same ledger: an erasure there is recorded under it
$s->(q{SELECT count(*) FROM retention.erase_subject('customer', '5')});
is($s->(q{SELECT count(DISTINCT ledger) FROM retention.ledger_entries() WHERE type = 'erasure'}), '1',
	'the promoted server writes the same ledger as the primary did');

$standby->stop;
done_testing();
