# An extension created or dropped by two-phase commit (PREPARE TRANSACTION, then COMMIT
# PREPARED: how Citus propagates CREATE EXTENSION to its workers) is noticed by the
# launcher, from the committing session or from another one; a prepared transaction
# rolled back changes nothing (docs/operations.md#citus).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('twophase', 'max_prepared_transactions = 5');
$node->safe_psql('postgres', 'CREATE DATABASE tp');
$node->safe_psql('postgres', 'CREATE DATABASE tp2');
sleep 3;
is(workers_in($node, 'tp'), '0', 'no worker where the extension is not installed');

# prepared and committed in one session, as Citus does over its connection to a worker
$node->safe_psql('tp', q{
	BEGIN;
	CREATE EXTENSION pg_retention;
	PREPARE TRANSACTION 'create_retention';
});
sleep 3;
is(workers_in($node, 'tp'), '0', 'prepared, not committed: no worker yet');
$node->safe_psql('tp', q{COMMIT PREPARED 'create_retention'});
ok(defined poll_until($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'tp'", '1', 15),
	'committed: the database gets its worker');

# a prepared transaction rolled back leaves no worker
$node->safe_psql('tp2', q{
	BEGIN;
	CREATE EXTENSION pg_retention;
	PREPARE TRANSACTION 'never';
});
$node->safe_psql('tp2', q{ROLLBACK PREPARED 'never'});
sleep 3;
is(workers_in($node, 'tp2'), '0', 'rolled back: no worker');

# committed from another session (a transaction manager recovering it)
$node->safe_psql('tp2', q{
	BEGIN;
	CREATE EXTENSION pg_retention;
	PREPARE TRANSACTION 'recovered';
});
my ($ret) = $node->psql('tp2', q{COMMIT PREPARED 'recovered'});
is($ret, 0, 'another session commits the prepared transaction');
ok(defined poll_until($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'tp2'", '1', 15),
	'the database gets its worker all the same');

# a DROP EXTENSION committed by two-phase commit: the worker leaves
$node->safe_psql('tp', q{
	BEGIN;
	DROP EXTENSION pg_retention;
	PREPARE TRANSACTION 'drop_retention';
});
$node->safe_psql('tp', q{COMMIT PREPARED 'drop_retention'});
ok(defined poll_until($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'tp'", '0', 15),
	'dropped by two-phase commit: the worker leaves');

$node->stop;
done_testing();
