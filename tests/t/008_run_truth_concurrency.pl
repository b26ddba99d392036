# What a run reports while the application works on the same table
# (docs/operations.md#what-pg_retention-checks-after-each-run-and-erasure):
# - ordinary UPDATEs of expired rows, under pgbench, and an innocent BEFORE
#   DELETE audit trigger: every row goes, the trigger saw each delete once,
#   and the run says success (it once failed with 09000, blaming the trigger);
# - the application deleting expired rows itself in a long transaction while
#   a soft-delete trigger keeps others: the run is failed for exactly the
#   rows the trigger kept, and the rows the application took are not counted
#   among the refused ones;
# - rows that arrive already expired while the run goes (late uploads): they
#   are taken by the run or are new rows for the next one; the run is not
#   incomplete for them.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('run_truth_concurrency', 'retention.enabled = off');

# 1. pgbench updates expired rows; a BEFORE DELETE trigger writes each delete to a log
$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_retention;
	CREATE TABLE account (id int PRIMARY KEY, email text, closed_at timestamptz, hits int DEFAULT 0);
	CREATE TABLE account_log (id int, op text);
	CREATE FUNCTION account_log() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN INSERT INTO public.account_log VALUES (OLD.id, TG_OP); RETURN OLD; END $$;
	CREATE TRIGGER account_log BEFORE DELETE ON account FOR EACH ROW EXECUTE FUNCTION account_log();
	INSERT INTO account SELECT g, 'u' || g || '@example.org', '2020-01-01' FROM generate_series(1, 20000) g;
	VACUUM ANALYZE account;
	SELECT retention.add_policy('account', '1 year', 'closed_at', batch_size => 500);
});
my $script = PostgreSQL::Test::Utils::tempdir() . '/touch.sql';
PostgreSQL::Test::Utils::append_to_file($script,
	"\\set a random(1, 20000)\nUPDATE account SET hits = hits + 1 WHERE id = :a;\n");
my ($out, $err) = ('', '');
my $bench = IPC::Run::start([ 'pgbench', '-n', '-c', '2', '-T', '12', '-f', $script, $node->connstr('postgres') ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres', q{SELECT sum(hits) > 100 FROM account}) or die 'pgbench does not update';
my ($rc, $stdout, $stderr) = $node->psql('postgres', q{SET retention.batch_pause = 20; CALL retention.run('account')});
$bench->finish;
is($rc, 0, 'the run under concurrent updates and an audit trigger ends without an error')
	or diag($stderr);
like($out, qr/number of failed transactions: 0 /, 'pgbench: no failed transaction');
# a row a pgbench client holds locked when a batch reaches it may be stepped around: then it is
# counted as skipped because locked, and it is the only kind of row left
my ($st, $taken, $refused, $left_n, $nocause, $skipped) = split / /, $node->safe_psql('postgres', q{
	SELECT status || ' ' || rows || ' ' || refused || ' ' || rows_left || ' ' || (cause IS NULL) || ' ' || skipped_locked
	FROM retention.runs r JOIN retention.policies p USING (policy_id) WHERE p.tbl = 'account'::regclass});
is("$st $refused $left_n $nocause", 'success 0 0 true', 'the run says success: none refused, none left, no cause');
is($taken + $skipped, 20000, "every expired row was deleted ($taken) or is counted as skipped because locked ($skipped)");
cmp_ok($skipped, '<=', 10, 'a handful at most: only rows a pgbench client held at the moment are skipped');
is($node->safe_psql('postgres', 'SELECT count(*) FROM account'), $skipped,
	'and the table agrees: no account is left but the skipped ones');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(DISTINCT id) FROM account_log WHERE op = 'DELETE'}),
	"$taken $taken", 'the audit trigger saw each delete exactly once');

# 2. the application deletes 100 expired rows in a long transaction; a soft-delete trigger keeps 50 others
$node->safe_psql('postgres', q{
	CREATE TABLE accounts (id int PRIMARY KEY, email text, closed_at timestamptz, legal_keep boolean DEFAULT false);
	CREATE FUNCTION soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN IF OLD.legal_keep THEN RETURN NULL; END IF; RETURN OLD; END $$;
	CREATE TRIGGER soft_delete BEFORE DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION soft_delete();
	INSERT INTO accounts SELECT g, 'u' || g || '@example.org', '2020-01-01', g > 950 FROM generate_series(1, 1000) g;
	SELECT retention.add_policy('accounts', '1 year', 'closed_at', batch_size => 100);
});
my $app = $node->background_psql('postgres', on_error_stop => 1);
$app->query_safe('BEGIN');
$app->query_safe('DELETE FROM accounts WHERE id <= 100');
my $run = $node->background_psql('postgres', on_error_stop => 0);
$run->query_until(qr/started/, q{
	SET retention.batch_pause = 100;
	\echo started
	CALL retention.run('accounts');
	\echo finished
});
$node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM retention.runs WHERE status = 'running'})
	or die 'the run did not start';
sleep 2;
$app->query_safe('COMMIT');
$app->quit;
$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM retention.runs WHERE status = 'running'})
	or die 'the run did not end';
$run->quit;
is($node->safe_psql('postgres', q{SELECT status || ' ' || rows || ' ' || refused || ' ' || skipped_locked
	FROM retention.runs r JOIN retention.policies p USING (policy_id) WHERE p.tbl = 'accounts'::regclass}),
	'failed 850 50 0', 'failed: 850 deleted by the run, exactly the 50 the trigger kept refused');
like($node->safe_psql('postgres', q{SELECT error FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'accounts'::regclass}),
	qr/^50 expired rows could not be deleted and were left; the first was refused by trigger soft_delete on public\.accounts/,
	'the error names the trigger and the count');
is($node->safe_psql('postgres', q{SELECT count(*) || ' ' || count(*) FILTER (WHERE legal_keep) FROM accounts}),
	'50 50', 'the table agrees: the 50 rows left are the ones the trigger kept');

# 3. rows already expired arrive while the run goes
$node->safe_psql('postgres', q{
	CREATE TABLE device_log (id bigserial PRIMARY KEY, recorded_at timestamptz NOT NULL, device_ip inet);
	CREATE INDEX ON device_log (recorded_at);
	INSERT INTO device_log (recorded_at, device_ip)
	  SELECT now() - interval '2 days' - g * interval '1 second', '10.0.0.1' FROM generate_series(1, 20000) g;
	SELECT retention.add_policy('device_log', '1 day', 'recorded_at', batch_size => 1000);
});
my $late = PostgreSQL::Test::Utils::tempdir() . '/late.sql';
PostgreSQL::Test::Utils::append_to_file($late,
	"INSERT INTO device_log (recorded_at, device_ip) VALUES (now() - interval '2 days', '10.0.0.2');\n");
($out, $err) = ('', '');
$bench = IPC::Run::start([ 'pgbench', '-n', '-c', '1', '-R', '50', '-T', '8', '-f', $late, $node->connstr('postgres') ],
	'>', \$out, '2>', \$err);
$node->poll_query_until('postgres', q{SELECT count(*) > 0 FROM device_log WHERE device_ip = '10.0.0.2'})
	or die 'no late row arrives';
($rc, $stdout, $stderr) = $node->psql('postgres', q{SET retention.batch_pause = 50; CALL retention.run('device_log')});
my $end_id = $node->safe_psql('postgres', q{SELECT coalesce(max(id), 0) FROM device_log});
$bench->finish;
is($rc, 0, 'the run with late rows arriving ends without an error') or diag($stderr);
my ($status, $rows, $left) = split / /, $node->safe_psql('postgres', q{SELECT status || ' ' || rows || ' ' || rows_left
	FROM retention.runs r JOIN retention.policies p USING (policy_id) WHERE p.tbl = 'device_log'::regclass});
is("$status $left", 'success 0', 'late rows do not make the run incomplete');
cmp_ok($rows, '>', 20000, "it took the late rows that came before its check too ($rows rows)");
is($node->safe_psql('postgres', q{SELECT count(*) FROM device_log WHERE device_ip = '10.0.0.1'}), '0',
	'every row that was there before the run went');
$node->safe_psql('postgres', q{CALL retention.run('device_log')});
is($node->safe_psql('postgres', qq{SELECT count(*) FROM device_log WHERE id <= $end_id}), '0',
	'the next run takes them');

$node->stop;
done_testing();
