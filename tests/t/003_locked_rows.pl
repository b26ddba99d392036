# An application session holds a row lock on an expired row while a run goes on:
# the run does not wait beyond retention.lock_timeout, skips and reports the
# locked row, deletes the rest, and a later run removes the row.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use RetentionTest;

my $node = new_cluster('locked_rows');
$node->safe_psql('postgres', <<'SQL');
CREATE EXTENSION pg_retention;
CREATE TABLE sessions (id int PRIMARY KEY, ended timestamptz NOT NULL);
INSERT INTO sessions SELECT g, timestamptz '2022-01-01' + g * interval '1 minute' FROM generate_series(1, 5000) g;
SELECT retention.add_policy('sessions', '30 days', 'ended', batch_size => 1000);
SQL

# the application: a transaction that locks an expired row and keeps it
my $app = $node->background_psql('postgres');
$app->query_safe('BEGIN');
$app->query_safe('SELECT id FROM sessions WHERE id = 1234 FOR UPDATE');

my $start = time();
my ($ret, $out, $err) = $node->psql('postgres',
	"SET retention.lock_timeout = '500ms'; CALL retention.run('sessions', '2022-06-01')");
my $elapsed = time() - $start;
is($ret, 0, 'the run succeeds while a row is locked');
cmp_ok($elapsed, '<', 5, sprintf('the run did not wait on the lock (%.2f s)', $elapsed));
like($err, qr/4999 rows deleted .* 1 skipped \(locked\)/, 'the locked row is skipped and reported');
is($node->safe_psql('postgres', 'SELECT string_agg(id::text, \',\') FROM sessions'), '1234',
	'only the locked row is left');
is($node->safe_psql('postgres', "SELECT rows || '/' || skipped_locked || '/' || status FROM retention.runs"),
	'4999/1/success', 'the run record counts the skipped row');

$app->query_safe('COMMIT');
($ret, $out, $err) = $node->psql('postgres', "CALL retention.run('sessions', '2022-06-01')");
like($err, qr/ 1 row deleted .* 0 skipped/, 'a later run deletes the row once it is free');
is($node->safe_psql('postgres', 'SELECT count(*) FROM sessions'), 0, 'the table is empty');

# a lock held by DDL on the table: the batch gives up after lock_timeout, the run fails with the reason
$app->query_safe('BEGIN');
$app->query_safe('LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE');
$node->safe_psql('postgres', "INSERT INTO sessions VALUES (1, '2022-01-01')") if 0;
$start = time();
($ret, $out, $err) = $node->psql('postgres',
	"SET retention.lock_timeout = '300ms'; CALL retention.run('sessions', '2022-06-01')");
$elapsed = time() - $start;
isnt($ret, 0, 'a run blocked by an exclusive table lock fails');
cmp_ok($elapsed, '<', 5, sprintf('and does not wait for it (%.2f s)', $elapsed));
like($err, qr/canceling statement due to lock timeout/, 'with the lock timeout as its error');
$app->query_safe('ROLLBACK');
is($node->safe_psql('postgres',
	"SELECT status || ': ' || error FROM retention.runs ORDER BY run_id DESC LIMIT 1"),
	'failed: canceling statement due to lock timeout (SQLSTATE 55P03)', 'the run is recorded as failed with its error');
$app->quit;

$node->stop;
done_testing();
