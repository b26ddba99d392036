# retention.erasure_horizon: after an erasure, the removed data is held by the
# dead tuples of the tables it changed until VACUUM, then by the WAL -- a
# replication slot that needs it, wal_keep_size, the next checkpoint -- and
# then by the backups retention.backup_retention declares;
# unrecoverable_after moves as docs/operations.md says when you VACUUM,
# CHECKPOINT and drop the slot.  retention.vacuum_after_erasure has the worker
# vacuum the tables itself; a purge run gets its row too.
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
# autovacuum off: the test vacuums, and nothing else may
my $node = restore_node('horizon', $dir, conf => [ "retention.backup_retention = '1d'", 'autovacuum = off' ]);
setup_shop($node, 'shop', $dir, 20);
my $q = sub { $node->safe_psql('shop', shift) };
my $row = sub {
	my ($id) = @_;
	return $q->(qq{SELECT coalesce(held_by, '-') FROM retention.erasure_horizon WHERE source = 'erasure' AND id = '$id'});
};

$q->(q{SELECT pg_create_physical_replication_slot('standby_gone', true)});
$q->(q{SELECT count(*) FROM retention.erase_subject('customer', '1')});
my $id = $q->(q{SELECT erasure_id FROM retention.erasure_ledger ORDER BY requested_at DESC LIMIT 1});
like($id, qr/^[0-9a-f-]{36}$/, 'an erasure');
is($q->(q{SELECT array_to_string(tables, ',') || '/' || (lsn <= pg_current_wal_insert_lsn()) || '/' || (unrecoverable_after IS NULL)
	FROM retention.erasure_horizon}), 'orders,customer/true/true', 'its row: the tables it changed, its WAL position, no horizon yet');
is($row->($id), 'dead tuples in public.orders, public.customer (not vacuumed since)', 'held by the dead tuples first');

$q->('VACUUM customer');
is($row->($id), 'dead tuples in public.orders (not vacuumed since)', 'VACUUM of one table: the other still holds them');
$q->('VACUUM orders');
is($q->(q{SELECT dead_tuples_gone IS NOT NULL FROM retention.erasure_horizon}), 't', 'both vacuumed: the dead tuples are gone');
like($row->($id), qr/^replication slot "standby_gone" \(WAL segment [0-9A-F]{24}; until the slot moves on, or max_slot_wal_keep_size = -1 MB|^replication slot "standby_gone" \(WAL segment [0-9A-F]{24}; until the slot moves on or is dropped\)$/,
	'then by the WAL the replication slot keeps, named');
$q->('SELECT pg_switch_wal()');
$q->('CHECKPOINT');
like($row->($id), qr/^replication slot "standby_gone"/, 'a checkpoint does not remove what the slot keeps');
$q->(q{SELECT pg_drop_replication_slot('standby_gone')});
like($row->($id), qr/^the next checkpoint \(WAL segment [0-9A-F]{24}\)$/, 'slot dropped: the next checkpoint removes it');
$q->('SELECT pg_switch_wal()');
$q->('CHECKPOINT');
is($q->(q{SELECT wal_gone IS NOT NULL AND wal_gone >= dead_tuples_gone
	AND unrecoverable_after = wal_gone + interval '1 day' AND backups_gone = unrecoverable_after
	FROM retention.erasure_horizon WHERE id = '} . $id . q{'}), 't',
	'the checkpoint removed the WAL: unrecoverable one day (retention.backup_retention) later');
is($row->($id), 'backups and WAL archives (retention.backup_retention = 1 day)', 'held by the backups until then');
$node->append_conf('postgresql.conf', "retention.backup_retention = 0\n");
$node->reload;
sleep 0.5;
is($q->(q{SELECT (unrecoverable_after = wal_gone)::text || '/' || coalesce(held_by, 'nothing')
	FROM retention.erasure_horizon WHERE id = '} . $id . q{'}), 'true/nothing', 'no backups kept: unrecoverable since the checkpoint');
$node->append_conf('postgresql.conf', "retention.backup_retention = -1\n");
$node->reload;
sleep 0.5;
is($q->(q{SELECT (unrecoverable_after IS NULL)::text || '/' || held_by FROM retention.erasure_horizon WHERE id = '} . $id . q{'}),
	'true/backups and WAL archives (retention.backup_retention is not set)', 'backups not declared: no horizon');

# wal_keep_size keeps the segment after the checkpoint
$node->append_conf('postgresql.conf', "wal_keep_size = '256MB'\nretention.backup_retention = '1d'\n");
$node->reload;
sleep 0.5;
$q->(q{SELECT count(*) FROM retention.erase_subject('customer', '2')});
$q->('VACUUM customer; VACUUM orders');
$q->('SELECT pg_switch_wal()');
$q->('CHECKPOINT');
like($q->(q{SELECT held_by FROM retention.erasure_horizon ORDER BY carried_out_at DESC LIMIT 1}),
	qr/^wal_keep_size \(256 MB: segment [0-9A-F]{24} is kept until \d+ MB more WAL is written\)$/, 'wal_keep_size holds it, with how much more WAL');

# the worker: first sightings recorded, and a VACUUM of just the tables an erasure changed
$node->append_conf('postgresql.conf', "wal_keep_size = 0\nretention.vacuum_after_erasure = on\n");
$node->reload;
$q->(q{SELECT count(*) FROM retention.erase_subject('customer', '3')});
ok(defined poll_until($node, 'shop', q{SELECT dead_tuples_gone IS NOT NULL FROM retention.erasure_horizon
	ORDER BY carried_out_at DESC LIMIT 1}, 't', 30), 'retention.vacuum_after_erasure: the worker vacuums the tables');
is($q->(q{SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_stat_user_tables
	WHERE last_vacuum > (SELECT max(carried_out_at) FROM retention.erasure_horizon)}), 'customer,orders', 'just those tables');
my $settled = $q->(q{SELECT wal_gone FROM retention.horizon_marks WHERE source_id = '} . $id . q{'});
isnt($settled, '', 'the worker recorded when the WAL was first seen gone');
$q->('SELECT pg_switch_wal()');
$q->('CHECKPOINT');
is($q->(q{SELECT wal_gone FROM retention.erasure_horizon WHERE id = '} . $id . q{'}), $settled,
	'a later checkpoint does not move it');

# a purge run has its row too
$q->(q{SELECT retention.alter_policy(policy_id, enabled => true) FROM retention.policies});
ok(defined poll_until($node, 'shop', q{SELECT count(*) FROM retention.erasure_horizon WHERE source = 'run'}, '1', 30),
	'a purge run has its row');
is($q->(q{SELECT array_to_string(tables, ',') || '/' || held_by FROM retention.erasure_horizon WHERE source = 'run'}),
	'visits/dead tuples in public.visits (not vacuumed since)', 'held by its dead tuples');

$node->stop;
done_testing();
