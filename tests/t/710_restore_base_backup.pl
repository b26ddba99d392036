# A base backup restored into a new cluster, and a point-in-time recovery to
# a moment before the erasures, both with the same key and ledger file: each
# is recognized as a restore by itself, the erasures made after the backup
# are replayed before any policy runs (and the audit says so), an erasure
# that rolled back is never replayed, and the policies wait for the grace
# period until retention.resume() ends it.  The database the backup came from
# sees nothing of it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use RestoreTest;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $primary = restore_node('primary', $dir, has_archiving => 1);
setup_shop($primary, 'shop', $dir, 50);
my $p = sub { $primary->safe_psql('shop', shift) };
# the worker's first pass writes the ledger's identity, and an anchor of the audit trail to the file
for (my $i = 0; $i < 300 && !-e "$dir/retention.ledger"; $i++) { sleep 0.1; }
ok(defined poll_until($primary, 'shop', q{SELECT count(*) > 0 FROM retention.ledger_entries() WHERE type = 'anchor'}, 't', 30),
	'the worker of the original database has written an anchor to the ledger file');

$primary->backup('before');
$p->(q{SELECT pg_create_restore_point('before_erasures')});
my $anchors = q{SELECT count(*) FROM retention.ledger_entries() WHERE type = 'anchor'};
my $before = $p->($anchors);
$p->(q{SELECT count(*) FROM generate_series(1, 5) g, retention.erase_subject('customer', g::text)});
# an erasure that rolls back: never in the ledger file as done, never replayed
my ($ret, $out, $err) = $primary->psql('shop', q{BEGIN;
	SELECT count(*) FROM retention.erase_subject('customer', '6');
	ROLLBACK;});
is($ret, 0, 'an erasure rolled back');
is($p->(q{SELECT count(*) FROM customer WHERE id <= 6}), '1', 'the original has erased customers 1 to 5, not 6');
is($p->(q{SELECT count(*) || '/' || count(*) FILTER (WHERE outcome = 'committed')
	FROM retention.ledger_entries() WHERE type = 'erasure'}), '5/5', 'the ledger file holds the five committed erasures');
# an anchor after the erasures: a restore from before them is also behind the audit trail
$primary->poll_query_until('shop', "SELECT ($anchors) > $before") or die 'no anchor after the erasures';
$p->(q{SELECT pg_switch_wal()});
$primary->poll_query_until('shop', q{SELECT last_archived_wal IS NOT NULL FROM pg_stat_archiver})
  or die 'WAL was not archived';

# 1. the base backup as it is, started as a new cluster (same system identifier)
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($primary, 'before');
$restored->append_conf('postgresql.conf', "archive_mode = off\n");
my $started = time;
$restored->start;
my $r = sub { $restored->safe_psql('shop', shift) };
ok(defined poll_until($restored, 'shop', q{SELECT count(*) FROM customer WHERE id <= 5}, '0', 30),
	'restored backup: the erased customers are gone by themselves');
note(sprintf('replayed %.1f s after the start', time - $started));
is($r->(q{SELECT count(*) FROM orders WHERE customer_id <= 5}), '0', 'and their orders');
is($r->(q{SELECT count(*) FROM customer WHERE id = 6}), '1', 'the erasure that rolled back is not replayed');
is($r->(q{SELECT string_agg(s, ',' ORDER BY s) FROM retention.restores, unnest(signals) s}), 'audit,erasures',
	'recognized by the erasures it lacks and the audit anchor it does not reach');
is($r->(q{SELECT replayed || '/' || waiting || '/' || (grace_until > now() + interval '2 days') FROM retention.restores}),
	'5/true/true', 'five replayed; the policies wait three days');
is($r->(q{SELECT string_agg(event, ',' ORDER BY seq) FROM retention.audit
	WHERE seq >= (SELECT seq FROM retention.audit WHERE event = 'restore_recognized') }),
	'restore_recognized,erasures_restored,erasures_replayed', 'the audit says so, in that order');
is($r->(q{SELECT jsonb_array_length(details->'erasure_ids') || '/' || jsonb_array_length(details->'unconfirmed')
	FROM retention.audit WHERE event = 'erasures_restored'}), '5/0', 'naming the five erasures, all confirmed');
is($r->(q{SELECT count(*) FROM retention.erasures WHERE applied_here IS NOT NULL}), '5',
	'the ledger holds them as carried out here');
is($r->(q{SELECT ok FROM retention.verify_audit()}), 't', 'the audit verifies');

# no policy runs during the grace period, even enabled; resume() ends it
$r->(q{SELECT retention.alter_policy(policy_id, enabled => true) FROM retention.policies});
sleep 3;
is($r->(q{SELECT count(*) FROM visits}), '100', 'expired visits stay during the grace period');
is($r->(q{SELECT count(*) FROM retention.runs}), '0', 'no policy ran');
is($r->(q{SELECT restore_grace_until = next_run FROM retention.status}), 't',
	'retention.status: the next run is at the end of the grace period');
is($r->(q{SELECT retention.resume()}), 't', 'resume() ends the wait');
ok(defined poll_until($restored, 'shop', q{SELECT count(*) FROM visits}, '0', 30), 'then the policy runs');
is($r->(q{SELECT bool_and(e.seq < r.seq) FROM retention.audit e, retention.audit r
	WHERE e.event = 'erasures_replayed' AND r.event = 'run'}), 't', 'the erasures were replayed before any run');
is(count_in_log($restored, qr/is a restore or a copy/), 1, 'the restore was logged once');

# 2. point-in-time recovery to a moment before the erasures
my $pitr = PostgreSQL::Test::Cluster->new('pitr');
$pitr->init_from_backup($primary, 'before', has_restoring => 1);
$pitr->append_conf('postgresql.conf', "recovery_target_name = 'before_erasures'\nrecovery_target_action = 'promote'\narchive_mode = off\n");
$pitr->start;
ok(defined poll_until($pitr, 'shop', q{SELECT count(*) FROM customer WHERE id <= 5}, '0', 30),
	'point-in-time recovery: the erasures are replayed');
is($pitr->safe_psql('shop', q{SELECT timeline_id > 1 FROM pg_control_checkpoint()}), 't', 'on a new timeline');
is($pitr->safe_psql('shop', q{SELECT 'erasures' = ANY (signals) FROM retention.restores}), 't', 'recognized');
is($pitr->safe_psql('shop', q{SELECT count(*) FROM customer WHERE id = 6}), '1', 'the rolled-back erasure stays undone');

# the original was never taken for a restore, although both copies write to the same file
$p->(q{SELECT count(*) FROM retention.erase_subject('customer', '7')});
sleep 2;
is($p->(q{SELECT count(*) FROM retention.restores}), '0', 'the original recognizes no restore');
is(count_in_log($primary, qr/is a restore or a copy|WARNING/), 0, 'and logs no warning');
# what the original erases later reaches the copies too
ok(defined poll_until($restored, 'shop', q{SELECT count(*) FROM customer WHERE id = 7}, '0', 30),
	'a later erasure in the original is replayed in the restored copy');
is($r->(q{SELECT count(*) FROM retention.restores}), '1', 'without another restore recognized');
unlike(slurp_file($restored->logfile), qr/PANIC|TRAP/, 'no crash');

$pitr->stop;
$restored->stop;
$primary->stop;
done_testing();
