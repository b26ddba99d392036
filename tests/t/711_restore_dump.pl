# pg_dump / pg_restore -C of a database into another cluster with the same key
# and ledger file, the scheduler running there: the restore is recognized (the
# ledger was written from another system), the erasures made in the source
# after the dump are replayed at once, the expired rows stay during the grace
# period (shown in retention.status, logged once), and retention.resume(),
# by the database's owner and audited, ends it; a stranger may not.  The
# source keeps its own ledger: erasures made in the copy are not replayed
# there.
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
my $source = restore_node('source', $dir);
setup_shop($source, 'shop', $dir, 30);
my $s = sub { $source->safe_psql('shop', shift) };
$s->(q{SELECT count(*) FROM retention.erase_subject('customer', '1')});
# an erasure pending on a hold when the dump is taken, carried out in the source afterwards
my $hold5 = $s->(q{SELECT retention.hold('customer', '5', 'an inquiry')});
$s->(q{SELECT count(*) FROM retention.erase_subject('customer', '5')});

my $dump = "$dir/shop.dump";
command_ok([ 'pg_dump', '-Fc', '-d', $source->connstr('shop'), '-f', $dump ], 'pg_dump -Fc');
# erasures after the dump: the copy must not bring these people back
$s->(q{SELECT count(*) FROM generate_series(2, 4) g, retention.erase_subject('customer', g::text)});
$s->("SELECT retention.release($hold5)");
is($s->(q{SELECT count(*) FROM customer WHERE id = 5}), '0', 'in the source, the release carries out the pending erasure');

my $copy = restore_node('copy', $dir);
$copy->safe_psql('postgres', 'CREATE ROLE dba LOGIN; CREATE ROLE stranger LOGIN');
{
	local $ENV{PGAPPNAME} = 'pg_restore';
	command_ok([ 'pg_restore', '-C', '-d', $copy->connstr('postgres'), $dump ], 'pg_restore -C into another cluster');
}
$copy->safe_psql('postgres', 'ALTER DATABASE shop OWNER TO dba');
my $c = sub { $copy->safe_psql('shop', shift) };
ok(defined poll_until($copy, 'shop', q{SELECT count(*) FROM customer WHERE id <= 4}, '0', 30),
	'the erasures made after the dump are replayed by themselves');
is($c->(q{SELECT array_to_string(signals, ',') || '/' || replayed || '/' || waiting FROM retention.restores}),
	'moved/3/true', 'recognized: the ledger was written from another system; three replayed');
is($c->(q{SELECT details->'moved'->>'from' <> details->'moved'->>'to' FROM retention.restores}), 't',
	'the restore names where the ledger came from and where it is now');

# the grace period: enabled policies wait, retention.status says until when
$c->(q{SELECT retention.alter_policy(policy_id, enabled => true) FROM retention.policies});
sleep 3;
is($c->(q{SELECT count(*) FROM visits}), '100', 'expired rows stay during the grace period');
is($c->(q{SELECT count(*) FROM retention.runs WHERE trigger = 'worker'}), '0', 'the worker runs no policy');
is($c->(q{SELECT restore_grace_until IS NOT NULL AND next_run = restore_grace_until FROM retention.status}), 't',
	'retention.status shows the end of the wait as the next run');
is($c->(q{SELECT running::text || ' ' || state FROM retention.scheduler_state()}), 'false restore_grace',
	'scheduler_state (and so the exporter) says the policies wait after a restore');
is(count_in_log($copy, qr/"shop" is a restore or a copy \(moved\)/), 1, 'the restore is logged once, over several passes');
# the copy's own hold still holds customer 5: the file's "done" cannot be carried out here, and
# is neither imported nor audited again on every pass
is($c->(q{SELECT status || ' ' || array_to_string(waiting_for, ',') FROM retention.erasures e
	JOIN retention.holds h ON h.id = '5' WHERE e.status = 'pending'}), "pending $hold5", 'the copy keeps it pending on its hold');
is($c->(q{SELECT count(*) FROM retention.audit WHERE event = 'erasures_restored'}), '1',
	'one erasures_restored entry over several passes, not one a pass');
is($c->(q{SELECT replayed FROM retention.restores}), '3', 'and the restore counts three replayed, no more');

# resume(): not a stranger's to call; the database's owner may, and the audit names them
my ($ret, $out, $err) = $copy->psql('shop', 'SELECT retention.resume()', extra_params => [ '-U', 'stranger' ]);
like($err, qr/must be a superuser or the owner of database "shop" to end the wait after a restore/,
	'a stranger cannot end the wait');
is($copy->safe_psql('shop', 'SELECT retention.resume()', extra_params => [ '-U', 'dba' ]), 't',
	'the database owner ends it');
ok(defined poll_until($copy, 'shop', q{SELECT count(*) FROM visits}, '0', 30), 'then the policy runs');
is($c->(q{SELECT state FROM retention.scheduler_state()}), 'running', 'scheduler_state: running after resume()');
is($c->(q{SELECT actor || '/' || (details->>'restore_id') FROM retention.audit WHERE event = 'restore_resumed'}), 'dba/1',
	'audited: restore_resumed by dba');
is($c->(q{SELECT resumed_by || '/' || waiting FROM retention.restores}), 'dba/false', 'retention.restores says so');
is($c->(q{SELECT retention.resume()}), 'f', 'a second resume() finds nothing waiting');

# an erasure in the copy is its own: the source does not replay it
$c->(q{SELECT count(*) FROM retention.erase_subject('customer', '10')});
sleep 2;
is($s->(q{SELECT count(*) FROM customer WHERE id = 10}), '1', 'the source keeps what the copy erased');
is($s->(q{SELECT count(*) FROM retention.restores}), '0', 'and recognizes no restore');
# the source's later erasures reach the copy
$s->(q{SELECT count(*) FROM retention.erase_subject('customer', '11')});
ok(defined poll_until($copy, 'shop', q{SELECT count(*) FROM customer WHERE id = 11}, '0', 30),
	'a later erasure in the source reaches the copy');
is($c->(q{SELECT ok FROM retention.verify_audit()}), 't', 'the copy\'s audit verifies');

$copy->stop;
$source->stop;
done_testing();
