# The scheduler on a Citus cluster: a CREATE EXTENSION that Citus propagates to the workers
# (two-phase commit) is noticed there; the coordinator's worker enforces the policies of
# distributed and reference tables on every shard; the workers' schedulers never act on
# shards on their own, and policies of Citus tables are declared on the coordinator
# (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_sched', without_extension => 1);
my $workers = q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 't_sched'};

for my $n (0 .. 2)
{
	$c->psql($n, q{ALTER SYSTEM SET retention.enabled = on});
	$c->psql($n, q{ALTER SYSTEM SET retention.naptime = 1});
	$c->psql($n, q{SELECT pg_reload_conf()});
}
ok($c->wait_for($_, q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention launcher'}, '1', 30),
	"node $_ runs the launcher") for 0 .. 2;
sleep 3;
is($c->on_every_node($workers), '0|0|0', 'no database worker where the extension is not installed');

# Citus propagates CREATE EXTENSION with PREPARE TRANSACTION and COMMIT PREPARED
$c->psql(0, q{CREATE EXTENSION pg_retention});
is($c->on_every_node(q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}), '0.3.0|0.3.0|0.3.0',
	'the extension is on every node');
ok($c->wait_for($_, $workers, '1', 30), "node $_ noticed it and started its database worker") for 0 .. 2;

$c->psql(0, q{
	CREATE TABLE ev (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('ev', 'tenant', shard_count => 4);
	INSERT INTO ev SELECT g % 50, g, now() - interval '500 days' + g * interval '1 hour' FROM generate_series(1, 10000) g;
	CREATE TABLE ref (id int PRIMARY KEY, ts timestamptz NOT NULL);
	SELECT create_reference_table('ref');
	INSERT INTO ref SELECT g, now() - interval '500 days' + g * interval '1 day' FROM generate_series(1, 400) g;
});
my $ev_due = $c->psql(0, q{SELECT count(*) FROM ev WHERE ts < now() - interval '1 year'});
my $ref_due = $c->psql(0, q{SELECT count(*) FROM ref WHERE ts < now() - interval '1 year'});
cmp_ok($ev_due, '>', 0, "ev has $ev_due expired rows");
$c->psql(0, q{SELECT retention.add_policy('ev', '1 year', 'ts'); SELECT retention.add_policy('ref', '1 year', 'ts')});
ok($c->wait_for(0, q{SELECT count(*) FROM retention.runs WHERE trigger = 'worker' AND status = 'success' AND rows > 0}, '2', 60),
	'the coordinator\'s worker ran both policies');
is($c->psql(0, q{SELECT string_agg(tbl || ' ' || rows || ' ' || status, ', ' ORDER BY tbl) FROM retention.runs WHERE rows > 0}),
	"public.ev $ev_due success, public.ref $ref_due success", 'every expired row, on its first pass');
is($c->psql(0, q{SELECT string_agg(result, ',') FROM run_command_on_shards('ev', $$SELECT count(*) FROM %s WHERE ts < now() - interval '1 year'$$)}),
	'0,0,0,0', 'no shard of the distributed table holds an expired row');
is($c->psql(0, q{SELECT string_agg(result, ',') FROM run_command_on_placements('ref', $$SELECT count(*) || '/' || min(id) FROM %s$$)}),
	join(',', ((400 - $ref_due) . '/' . ($ref_due + 1)) x 3), 'every copy of the reference table holds the same rows');

# the worker's batches wait for a locked shard row at most retention.lock_timeout too (the
# setting reaches the workers from a background transaction), and step around it
$c->psql(0, q{INSERT INTO ev SELECT g % 50, g, now() - interval '450 days' FROM generate_series(20001, 20100) g});
my $s = $c->session(0);
$s->query('BEGIN');
is($s->query('SELECT id FROM ev WHERE tenant = 1 AND id = 20001 FOR UPDATE'), '20001', 'a session locks one of 100 new expired rows');
ok($c->wait_for(0, q{SELECT count(*) FROM retention.runs WHERE tbl = 'public.ev' AND trigger = 'worker' AND skipped_locked = 1
                     AND rows = 99 AND status = 'success'}, '1', 60),
	'the worker\'s next run takes the 99 others and counts the locked one, while the lock is held');
is($c->psql(0, q{SELECT count(*) FROM ev WHERE ts < now() - interval '1 year'}), '1', 'only the locked row is left');
$s->query('COMMIT');
$s->quit;
ok($c->wait_for(0, q{SELECT count(*) FROM ev WHERE ts < now() - interval '1 year'}, '0', 60), 'a later pass takes it');

# the workers' schedulers: no policy, no run of their own
is($c->psql($_, q{SELECT (SELECT count(*) FROM retention.policies) || '/' || (SELECT count(*) FROM retention.runs)}), '0/0',
	"node $_ has no policy and no run of its own") for 1 .. 2;
my $err = $c->psql_error(1, q{SELECT retention.add_policy('ev', '1 day', 'ts')});
like($err, qr/retention policies of Citus table public\.ev are declared on the coordinator/,
	'a policy of a Citus table cannot be declared on a worker');
my $shard = $c->psql(1, q{SELECT shard_name FROM citus_shards WHERE table_name = 'ev'::regclass AND nodeport = } . $c->port(1) . q{ LIMIT 1});
$err = $c->psql_error(1, qq{SET citus.override_table_visibility = off; SELECT retention.add_policy('$shard', '1 day', 'ts')});
like($err, qr/is a shard of a Citus table/, 'nor on a shard');

for my $n (0 .. 2)
{
	$c->psql($n, q{ALTER SYSTEM RESET retention.enabled});
	$c->psql($n, q{ALTER SYSTEM RESET retention.naptime});
	$c->psql($n, q{SELECT pg_reload_conf()});
}

done_testing();
