# A policy on a hash-distributed table: the coordinator's table is an empty shell, the
# rows are in the shards; a run must delete the expired rows of every shard and check
# its result through Citus (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_distributed');

# created empty, then filled: the usual way, and the one where the engine used to do nothing
$c->psql(0, q{
	CREATE TABLE ev (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, payload text,
	                 PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('ev', 'tenant', shard_count => 4);
	INSERT INTO ev SELECT g % 50, g, timestamptz '2025-01-01' + g * interval '5 min', 'x'
	  FROM generate_series(1, 100000) g;
	SELECT retention.add_policy('ev', '1 year', 'ts');
});
is($c->psql(0, q{SELECT pg_relation_size('ev')}), '0', 'the coordinator holds no row of the distributed table');
is($c->psql(0, q{SELECT rows_due FROM retention.preview('2026-06-01') WHERE tbl = 'ev'::regclass}), '43487',
	'preview counts the expired rows of every shard');

$c->psql(0, q{SET retention.batch_size = 7000; CALL retention.run('ev', '2026-06-01')});
is($c->psql(0, q{SELECT rows || ' ' || batches || ' ' || status || ' ' || rows_left FROM retention.runs}),
	'43487 7 success 0', 'the run deletes every expired row in batches of the batch size and says success');
is($c->psql(0, q{SELECT string_agg(result, ',' ORDER BY shardid) FROM run_command_on_shards('ev',
		$$SELECT count(*) FILTER (WHERE ts < '2025-06-01') || '/' || count(*) FROM %s$$)}),
	'0/14691,0/13563,0/11305,0/16954', 'no shard holds an expired row; every shard kept its unexpired rows');
is($c->psql(0, q{SELECT count(*) FROM ev WHERE ts >= '2025-06-01'}), '56513', 'no unexpired row was deleted');

# filled first, then distributed: the coordinator keeps a small stale heap whose ctids mean nothing on the shards
$c->psql(0, q{
	CREATE TABLE ev2 (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (tenant, id));
	INSERT INTO ev2 SELECT g % 50, g, timestamptz '2025-01-01' + g * interval '5 min' FROM generate_series(1, 1000) g;
	SELECT create_distributed_table('ev2', 'tenant', shard_count => 4);
	INSERT INTO ev2 SELECT g % 50, g, timestamptz '2025-01-01' + g * interval '5 min' FROM generate_series(1001, 100000) g;
	SELECT retention.add_policy('ev2', '1 year', 'ts');
	CALL retention.run('ev2', '2026-06-01');
});
isnt($c->psql(0, q{SELECT pg_relation_size('ev2')}), '0', 'ev2 has a stale local heap on the coordinator');
is($c->psql(0, q{SELECT rows || ' ' || status || ' ' || rows_left FROM retention.runs WHERE tbl = 'public.ev2'}),
	'43487 success 0', 'a table distributed after it was filled: every expired row of the shards goes');
is($c->psql(0, q{SELECT count(*) FILTER (WHERE ts < '2025-06-01') || '/' || count(*) FROM ev2}), '0/56513',
	'exactly the expired rows went');

# a run never says success while shards hold expired rows: a trigger on the shards keeps some
$c->psql(0, q{
	SET citus.enable_unsafe_triggers = on;
	CREATE TABLE ev3 (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('ev3', 'tenant', shard_count => 4);
	INSERT INTO ev3 SELECT g % 10, g, timestamptz '2025-01-01' + g * interval '1 hour' FROM generate_series(1, 2000) g;
	CREATE FUNCTION keep_sevens() RETURNS trigger LANGUAGE plpgsql AS
	  $$BEGIN IF OLD.id % 7 = 0 THEN RETURN NULL; END IF; RETURN OLD; END$$;
	CREATE TRIGGER keep_sevens BEFORE DELETE ON ev3 FOR EACH ROW EXECUTE FUNCTION keep_sevens();
	SELECT retention.add_policy('ev3', '1 year', 'ts');
});
my ($rc, $out, $err) = $c->psql_full(0, q{CALL retention.run('ev3', '2026-03-01')});
isnt($rc, 0, 'the run with rows left on the shards ends with an error');
like($err, qr/retention policy \d+ on public\.ev3 is incomplete: 202 expired rows left/, 'it names the rows left');
is($c->psql(0, q{SELECT status || ' ' || rows_left FROM retention.runs WHERE tbl = 'public.ev3'}),
	'incomplete 202', 'the run record is incomplete, with the rows the shards still hold');
is($c->psql(0, q{SELECT count(*) || '/' || count(*) FILTER (WHERE id % 7 = 0) FROM ev3 WHERE ts < '2025-03-01'}), '202/202',
	'the shards hold exactly those rows, the ones the trigger kept');

done_testing();
