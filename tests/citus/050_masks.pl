# Anonymize policies on a distributed table: every mask applied on every shard, the
# pseudonym mask too (Citus refuses the STABLE mask_pseudonym with column references in a
# multi-shard UPDATE; the shards compute the node form with their own node's key), as a
# table owner who is not a superuser; a worker with another key refuses, naming both
# fingerprints (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_masks');
my $key = "$ENV{CITUS_DIR}/t_masks.key";
my $other = "$ENV{CITUS_DIR}/t_masks_other.key";
unlink $key, $other;

# the same key on every node: here one file every node names (the nodes share a machine);
# ALTER DATABASE ... SET on the coordinator, which Citus propagates to the workers
my $fingerprint = $c->psql(0, qq{SELECT retention.create_key('$key')});
$c->psql(0, qq{ALTER DATABASE t_masks SET retention.key_file = '$key'});
is($c->on_every_node('SELECT retention.key_fingerprint()'), "$fingerprint|$fingerprint|$fingerprint",
	'every node has the same key');

$c->psql(0, q{
	DROP ROLE IF EXISTS t_masks_app;
	CREATE ROLE t_masks_app LOGIN;
	CREATE TABLE acc (tenant int NOT NULL, id bigint NOT NULL, closed timestamptz, email text, phone text,
	                  PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('acc', 'tenant', shard_count => 4);
	INSERT INTO acc SELECT g % 20, g, timestamptz '2024-01-01' + g * interval '1 hour',
	       'user' || g::text || '@example.com', '+86 138 1234 ' || lpad(g::text, 4, '0') FROM generate_series(1, 20000) g;
	ALTER TABLE acc OWNER TO t_masks_app;
	SELECT retention.tag('acc', 'email', 'email', 'pseudonym');
	SELECT retention.tag('acc', 'phone', 'phone');
	SELECT retention.add_policy('acc', '1 year', 'closed', action => 'anonymize');
});
my ($rc, $out, $err) = $c->psql_full(0, q{SET retention.batch_size = 3000; CALL retention.run('acc', '2026-01-01')});
is($rc, 0, 'the anonymize run succeeds');
is($c->psql(0, q{SELECT rows || ' ' || status || ' ' || rows_left FROM retention.runs}), '8783 success 0',
	'every expired row of every shard is masked');
cmp_ok($c->psql(0, q{SELECT batches FROM retention.runs}), '>=', 3, 'in batches');
is($c->psql(0, q{SELECT count(*) FILTER (WHERE NOT retention.is_pseudonym(email)) || '/' || count(*) FILTER (WHERE phone NOT LIKE '+86 138 **** %')
                 FROM acc WHERE closed < '2025-01-01'}), '0/0', 'both masks were applied on every shard');
is($c->psql(0, q{SELECT count(*) FILTER (WHERE retention.is_pseudonym(email)) FROM acc WHERE closed >= '2025-01-01'}), '0',
	'no unexpired row was masked');
is($c->psql(0, q{SELECT (email = retention.pseudonym('user5@example.com'))::text || ' ' || phone FROM acc WHERE tenant = 5 AND id = 5}),
	'true +86 138 **** 0005', 'the shards computed the same pseudonym as the coordinator');
is($c->psql(0, q{SELECT details->>'key_fingerprint' FROM retention.audit WHERE event = 'run'}), $fingerprint,
	'the audit entry names the key');

# the node form computes only for the engine: the owner calling it through Citus is refused
$err = $c->psql_error(0, q{SET ROLE t_masks_app; SELECT count(*) FROM acc t WHERE retention.mask_pseudonym_node(t.email, '') IS NOT NULL});
like($err, qr/permission denied for function retention.mask_pseudonym_node/, 'the table owner cannot compute pseudonyms on the shards');
$err = $c->psql_error(0, q{SET ROLE t_masks_app; SET retention.node_grant = 'abc:0123456789abcdef0123456789abcdef';
	SELECT count(*) FROM acc t WHERE retention.mask_pseudonym_node(t.email, '') IS NOT NULL});
like($err, qr/permission denied for function retention.mask_pseudonym_node/, 'a forged grant is refused');

# a grant read off a worker (its log here; pg_stat_activity would do) is worth nothing outside
# the distributed transaction it was made for
$c->psql(1, q{SET citus.enable_ddl_propagation = off; ALTER DATABASE t_masks SET log_statement = 'all'});
$c->psql(0, q{UPDATE acc SET email = 'again' || id::text || '@example.com' WHERE id <= 10;
	CALL retention.run('acc', '2026-01-01')});
is($c->psql(0, q{SELECT rows || ' ' || status FROM retention.runs ORDER BY run_id DESC LIMIT 1}), '10 success',
	'a later run masks rows unmasked since');
$c->psql(1, q{SET citus.enable_ddl_propagation = off; ALTER DATABASE t_masks RESET log_statement});
my ($grant) = (CitusLab::slurp($c->log_file(1)) =~ /SET LOCAL retention\.node_grant = '([0-9a-f]+:[0-9a-f]+)'/);
like($grant // '', qr/^$fingerprint:[0-9a-f]{32}$/, 'the worker received the grant: the key fingerprint and a MAC');
$err = $c->psql_error(0, qq{SET ROLE t_masks_app; SET retention.node_grant = '$grant';
	SELECT count(*) FROM acc t WHERE retention.mask_pseudonym_node(t.email, '') IS NOT NULL});
like($err, qr/permission denied for function retention.mask_pseudonym_node/, 'replayed in another transaction, it is refused');
$c->psql(0, q{UPDATE acc SET email = 'again' || id::text || '@example.com' WHERE id <= 10});

# a worker with another key: the run refuses, nothing changes
my $other_fp = $c->psql(0, qq{SELECT retention.create_key('$other')});
$c->psql(2, qq{SET citus.enable_ddl_propagation = off; ALTER DATABASE t_masks SET retention.key_file = '$other'});
is($c->psql(2, 'SELECT retention.key_fingerprint()'), $other_fp, 'the second worker now has another key');
($rc, $out, $err) = $c->psql_full(0, q{CALL retention.run('acc', '2026-01-01')});
isnt($rc, 0, 'the run with a worker whose key differs fails');
like($err, qr/the pseudonymization key of node \S+:\d+ \(fingerprint $other_fp\) is not the coordinator's \(fingerprint $fingerprint\)/,
	'it names the node and both fingerprints');
is($c->psql(0, q{SELECT status || ' ' || rows FROM retention.runs ORDER BY run_id DESC LIMIT 1}), 'failed 0',
	'the run record says failed, no row masked');
is($c->psql(0, q{SELECT count(*) FROM acc WHERE email LIKE 'again%'}), '10', 'no row was changed');

$c->psql(2, qq{SET citus.enable_ddl_propagation = off; ALTER DATABASE t_masks SET retention.key_file = '$key'});
$c->psql(0, q{CALL retention.run('acc', '2026-01-01')});
is($c->psql(0, q{SELECT status || ' ' || rows FROM retention.runs ORDER BY run_id DESC LIMIT 1}), 'success 10',
	'with the same key again, the run masks them');
unlink $key, $other;

done_testing();
