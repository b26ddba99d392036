# A distributed partitioned table: Citus refuses DETACH PARTITION ... CONCURRENTLY, so the
# partitions wholly before the cutoff are detached plainly (on every node) and dropped; the
# partition the cutoff cuts through goes by anchor ranges (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_partitioned');

$c->psql(0, q{
	CREATE TABLE evp (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (tenant, id, ts))
	  PARTITION BY RANGE (ts);
	SELECT format('CREATE TABLE evp_%s PARTITION OF evp FOR VALUES FROM (%L) TO (%L)', to_char(m, 'YYYYMM'), m, m + interval '1 month')
	  FROM generate_series(timestamptz '2024-07-01', '2026-06-01', interval '1 month') m \gexec
	SELECT create_distributed_table('evp', 'tenant', shard_count => 4);
	INSERT INTO evp SELECT g % 50, g, timestamptz '2024-07-01' + g * interval '15 min' FROM generate_series(1, 60000) g;
	SELECT retention.add_policy('evp', '1 year', 'ts');
});
is($c->psql(0, q{SELECT rows_due FROM retention.preview('2026-05-17') WHERE tbl = 'evp'::regclass}), '30719',
	'preview counts the expired rows of every partition');
is($c->psql(0, q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE 'evp_2024%'}), '6',
	'the partitions are distributed tables themselves');

# a plain CALL, outside a transaction block: where a plain table would be detached CONCURRENTLY
my ($rc, $out, $err) = $c->psql_full(0, q{CALL retention.run('evp', '2026-05-17')});
is($rc, 0, 'the run succeeds');
like($err, qr/30719 rows deleted \(10 partitions removed whole\) in 1 batch/, 'ten partitions go whole, the rest in one batch');
unlike($err, qr/CONCURRENTLY/, 'no detach was refused');
is($c->psql(0, q{SELECT rows || ' ' || partitions || ' ' || status || ' ' || rows_left || ' ' || COALESCE(notes, '-') FROM retention.runs}),
	'30719 10 success 0 -', 'the run record: every expired row, ten partitions, success, nothing left, no note');
is($c->psql(0, q{SELECT count(*) FILTER (WHERE ts < '2025-05-17') || '/' || count(*) FROM evp}), '0/29281',
	'no expired row is left, and no other row went');
is($c->psql(0, q{SELECT count(*) FROM pg_inherits WHERE inhparent = 'evp'::regclass}), '14', '14 partitions are left');
is($c->on_every_node(q{SELECT count(*) FROM pg_class WHERE relname ~ '^evp_(2024(0[7-9]|1[0-2])|2025(0[1-4]))'}),
	'0|0|0', 'the dropped partitions (and their shards) are gone on every node');
is($c->psql(0, q{SELECT count(*) FROM retention.audit WHERE event = 'partition_dropped'}), '10',
	'every dropped partition has its audit entry');
is($c->psql(0, q{SELECT sum(rows) FROM retention.audit WHERE event = 'partition_dropped'}), '29183',
	'with the rows of the shards counted');

done_testing();
