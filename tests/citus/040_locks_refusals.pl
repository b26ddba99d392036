# Locks and refusals on Citus tables: a batch waits for a locked shard row at most
# retention.lock_timeout on every node (the setting reaches the workers), locked rows are
# stepped around and counted, and rows a trigger refuses are isolated and counted while
# the others go (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;
use Time::HiRes qw(time);

my $c = CitusLab->new('t_locks');

$c->psql(0, q{
	CREATE TABLE ev (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('ev', 'tenant', shard_count => 4);
	INSERT INTO ev SELECT g % 50, g, timestamptz '2025-01-01' + g * interval '5 min' FROM generate_series(1, 100000) g;
	SELECT retention.add_policy('ev', '1 year', 'ts');
});

# another session locks one expired row on its shard, and keeps the lock
my $s = $c->session(0);
$s->query('BEGIN');
is($s->query('SELECT id FROM ev WHERE tenant = 1 AND id = 1 FOR UPDATE'), '1', 'a session locks row 1 on its shard');
my $start = time();
my ($rc, $out, $err) = $c->psql_full(0, q{SET retention.lock_timeout = 1000; SET retention.batch_size = 7000;
	CALL retention.run('ev', '2026-06-01')});
my $elapsed = time() - $start;
is($rc, 0, 'the run ends while the lock is still held');
cmp_ok($elapsed, '<', 8, "it waited about retention.lock_timeout, not for the lock (took ${elapsed}s)");
is($c->psql(0, q{SELECT rows || ' ' || skipped_locked || ' ' || status || ' ' || rows_left FROM retention.runs}),
	'43486 1 success 0', 'every other expired row went; the locked one is stepped around and counted');
is($c->psql(0, q{SELECT count(*) FILTER (WHERE ts < '2025-06-01') || ' ' || min(id) FILTER (WHERE ts < '2025-06-01') FROM ev}),
	'1 1', 'only the locked row is left');
$s->query('COMMIT');
$s->quit;
$c->psql(0, q{CALL retention.run('ev', '2026-06-01')});
is($c->psql(0, q{SELECT rows || ' ' || status FROM retention.runs ORDER BY run_id DESC LIMIT 1}), '1 success',
	'the next run takes the row once it is free');

# a reference table: Citus serializes its changes with a lock on the whole table, which a
# session locking one of its rows holds too; the run waits at most lock_timeout, leaves the
# rows for the next run and counts them, and every copy stays the same
$c->psql(0, q{
	CREATE TABLE ref (id int PRIMARY KEY, ts timestamptz NOT NULL);
	SELECT create_reference_table('ref');
	INSERT INTO ref SELECT g, timestamptz '2024-01-01' + g * interval '1 hour' FROM generate_series(1, 200) g;
	SELECT retention.add_policy('ref', '6 months', 'ts');
});
$s = $c->session(0);
$s->query('BEGIN');
is($s->query('SELECT id FROM ref WHERE id = 77 FOR UPDATE'), '77', 'a session locks row 77 of the reference table');
$start = time();
($rc, $out, $err) = $c->psql_full(0, q{SET retention.lock_timeout = 500; CALL retention.run('ref', '2025-01-01')});
$elapsed = time() - $start;
is($rc, 0, 'the run ends while the lock is held');
cmp_ok($elapsed, '<', 5, "it waited about retention.lock_timeout, twice at most (took ${elapsed}s)");
is($c->psql(0, q{SELECT rows || ' ' || skipped_locked || ' ' || status || ' ' || rows_left FROM retention.runs WHERE tbl = 'public.ref'}),
	'0 200 success 0', 'the expired rows are left for the next run and counted as skipped (locked)');
is($c->psql(0, q{SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_placements('ref', $$SELECT count(*) FROM %s$$)}),
	'200,200,200', 'every copy still holds the same rows');
$s->query('COMMIT');
$s->quit;
$c->psql(0, q{CALL retention.run('ref', '2025-01-01')});
is($c->psql(0, q{SELECT rows || ' ' || skipped_locked || ' ' || status FROM retention.runs WHERE tbl = 'public.ref' ORDER BY run_id DESC LIMIT 1}),
	'200 0 success', 'the next run, the lock gone, takes them');
is($c->psql(0, q{SELECT string_agg(result, ',' ORDER BY nodeport) FROM run_command_on_placements('ref', $$SELECT count(*) FROM %s$$)}),
	'0,0,0', 'from every copy');

# refusals: a trigger on the shards raises for some rows; they are found one by one and counted
$c->psql(0, q{
	SET citus.enable_unsafe_triggers = on;
	CREATE TABLE ev2 (tenant int NOT NULL, id bigint NOT NULL, ts timestamptz NOT NULL, PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('ev2', 'tenant', shard_count => 4);
	INSERT INTO ev2 SELECT g % 10, g, timestamptz '2025-01-01' + g * interval '1 hour' FROM generate_series(1, 3000) g;
	CREATE FUNCTION refuse_some() RETURNS trigger LANGUAGE plpgsql AS
	  $$BEGIN IF OLD.id IN (100, 1001, 1002) THEN RAISE EXCEPTION 'row % is evidence', OLD.id; END IF; RETURN OLD; END$$;
	CREATE TRIGGER refuse_some BEFORE DELETE ON ev2 FOR EACH ROW EXECUTE FUNCTION refuse_some();
	SELECT retention.add_policy('ev2', '1 year', 'ts');
});
($rc, $out, $err) = $c->psql_full(0, q{SET retention.batch_size = 500; CALL retention.run('ev2', '2026-03-01')});
isnt($rc, 0, 'a run that leaves refused rows fails');
like($err, qr/3 expired rows could not be deleted and were left/, 'it says how many rows were refused');
unlike($err, qr/evidence/, 'the trigger\'s message (it may quote the row) is not repeated');
is($c->psql(0, q{SELECT rows || ' ' || refused || ' ' || status FROM retention.runs WHERE tbl = 'public.ev2'}),
	'1412 3 failed', 'the other expired rows went');
is($c->psql(0, q{SELECT string_agg(id::text, ',' ORDER BY id) FROM ev2 WHERE ts < '2025-03-01'}), '100,1001,1002',
	'exactly the refused rows are left');

done_testing();
