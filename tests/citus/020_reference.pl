# A policy on a reference table: a copy on every node (the coordinator's included), every
# copy purged by the same statements, so every replica keeps the same rows; rows a
# distributed table still references are kept and counted (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_reference');

$c->psql(0, q{
	CREATE TABLE addr (addr_id int PRIMARY KEY, city text, ts timestamptz NOT NULL);
	SELECT create_reference_table('addr');
	INSERT INTO addr SELECT g, 'city ' || g::text, timestamptz '2024-01-01' + g * interval '1 hour'
	  FROM generate_series(1, 5000) g;
	CREATE TABLE cust (tenant int NOT NULL, cid int NOT NULL, addr_id int REFERENCES addr, PRIMARY KEY (tenant, cid));
	SELECT create_distributed_table('cust', 'tenant', shard_count => 4);
	INSERT INTO cust SELECT g % 7, g, g * 3 FROM generate_series(1, 300) g;
	SELECT retention.add_policy('addr', '6 months', 'ts');
});
is($c->psql(0, q{SELECT count(*) FROM pg_dist_placement p JOIN pg_dist_shard s USING (shardid)
                 WHERE s.logicalrelid = 'addr'::regclass}), '3', 'the reference table has a placement on each of the 3 nodes');

# as of 2025-01-01 the cutoff is 2024-07-01: rows 1 .. 4367 have expired, 300 of them referenced
is($c->psql(0, q{SELECT rows_due || ' ' || rows_blocked FROM retention.preview('2025-01-01') WHERE tbl = 'addr'::regclass}),
	'4367 300', 'preview counts the expired rows and those a distributed table references');
$c->psql(0, q{SET retention.batch_size = 1000; CALL retention.run('addr', '2025-01-01')});
is($c->psql(0, q{SELECT rows || ' ' || blocked || ' ' || status || ' ' || rows_left FROM retention.runs}),
	'4067 300 success 0', 'the run deletes every expired row no foreign key needs, and counts the others');
like($c->psql(0, q{SELECT batches FROM retention.runs}), qr/^[4-8]$/, 'in batches near the batch size (4 to 8 of 1000 rows)');

my $placements = $c->psql(0, q{SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_placements('addr',
	$$SELECT count(*) || '/' || count(*) FILTER (WHERE ts < '2024-07-01') || '/' || md5(string_agg(addr_id::text, ',' ORDER BY addr_id)) FROM %s$$)});
my @copies = split /,/, $placements;
is(scalar(@copies), 3, 'three copies read');
like($copies[0], qr{^933/300/[0-9a-f]{32}$}, 'a copy keeps the 633 unexpired rows and the 300 referenced ones');
is($copies[1], $copies[0], 'the first worker holds the same rows as the coordinator');
is($copies[2], $copies[0], 'the second worker holds the same rows as the coordinator');

# a reference table filled before create_reference_table (a stale local heap on the coordinator)
$c->psql(0, q{
	CREATE TABLE ref2 (id int PRIMARY KEY, ts timestamptz NOT NULL);
	INSERT INTO ref2 SELECT g, timestamptz '2024-01-01' + g * interval '1 day' FROM generate_series(1, 20) g;
	SELECT create_reference_table('ref2');
	INSERT INTO ref2 SELECT g, timestamptz '2024-01-01' + g * interval '1 day' FROM generate_series(21, 400) g;
	SELECT retention.add_policy('ref2', '6 months', 'ts');
	CALL retention.run('ref2', '2025-01-01');
});
is($c->psql(0, q{SELECT rows || ' ' || status FROM retention.runs WHERE tbl = 'public.ref2'}), '181 success',
	'filled before it was distributed: every expired row goes');
is($c->psql(0, q{SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_placements('ref2',
	$$SELECT count(*) || '/' || min(id) FROM %s$$)}), '219/182,219/182,219/182', 'on every copy the same rows');

done_testing();
