# Session state that would change what the engine's statements do, set by the
# session (SET), the role (ALTER ROLE ... SET), the database (ALTER DATABASE
# ... SET) or the server (ALTER SYSTEM): runs by CALL retention.run(), by the
# background worker and erase_subject() still cascade through foreign keys and
# fire triggers (session_replication_role = replica), still step around rows
# changed meanwhile (default_transaction_isolation), still write
# (default_transaction_read_only), still purge tables with forced row security
# (row_security = off), mask with constants read the same everywhere
# (DateStyle, TimeZone, IntervalStyle, array_nulls, standard_conforming_strings,
# transform_null_equals), log audit anchors in hex (bytea_output); a read-only
# transaction block is refused at once with 25006 and nothing recorded; and a
# session's statement_timeout ends its CALL as interrupted, truthfully.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('session_state', 'retention.enabled = off');
$node->safe_psql('postgres', q{
	CREATE DATABASE app; CREATE DATABASE wk;
	CREATE ROLE alice LOGIN; CREATE ROLE officer LOGIN;
});

# A connection string to $db without quotes, to put in a string literal.
sub dsn
{
	my ($db) = @_;
	return 'host=' . $node->host . ' port=' . $node->port . " dbname=$db";
}

# The same tables in app (manual runs) and wk (the worker); $connstr reaches the database itself.
sub setup
{
	my ($db) = @_;
	my $connstr = dsn($db);
	$node->safe_psql($db, qq{
		CREATE EXTENSION pg_retention; CREATE EXTENSION dblink;
		GRANT retention_officer TO officer;
		-- a foreign key that cascades, and a trigger that notes what was deleted
		CREATE TABLE parent (id int PRIMARY KEY, at timestamptz NOT NULL);
		CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent ON DELETE CASCADE, email text);
		CREATE TABLE trail (what text);
		CREATE FUNCTION note_delete() RETURNS trigger LANGUAGE plpgsql AS
		  \$\$ BEGIN INSERT INTO public.trail VALUES (TG_TABLE_NAME || ' ' || OLD.id); RETURN OLD; END \$\$;
		CREATE TRIGGER parent_deleted AFTER DELETE ON parent FOR EACH ROW EXECUTE FUNCTION note_delete();
		INSERT INTO parent SELECT g, now() - interval '3 days' FROM generate_series(1, 10) g;
		INSERT INTO parent SELECT g, now() FROM generate_series(11, 12) g;
		INSERT INTO child SELECT g, g, 'c' || g || '\@example.com' FROM generate_series(1, 12) g;
		SELECT retention.add_policy('parent', '1 day', 'at');
		-- forced row security: the table owner sees its rows through a policy
		CREATE TABLE secret (id int PRIMARY KEY, at timestamptz NOT NULL);
		ALTER TABLE secret ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
		CREATE POLICY everything ON secret USING (true);
		INSERT INTO secret SELECT g, now() - interval '3 days' FROM generate_series(1, 6) g;
		SELECT retention.add_policy('secret', '1 day', 'at');
		-- deleting row 1 makes another session delete row 2 meanwhile
		CREATE TABLE busy (id int PRIMARY KEY, at timestamptz NOT NULL);
		CREATE FUNCTION busy_meanwhile() RETURNS trigger LANGUAGE plpgsql AS \$\$
		BEGIN
		  IF OLD.id = 1 THEN
		    PERFORM public.dblink_exec('$connstr',
		      'BEGIN READ WRITE; DELETE FROM public.busy WHERE id = 2; COMMIT');
		  END IF;
		  RETURN OLD;
		END \$\$;
		CREATE TRIGGER busy_meanwhile BEFORE DELETE ON busy FOR EACH ROW EXECUTE FUNCTION busy_meanwhile();
		INSERT INTO busy SELECT g, now() - interval '3 days' FROM generate_series(1, 5) g;
		SELECT retention.add_policy('busy', '1 day', 'at');
		-- constant masks whose text some settings read otherwise
		CREATE TABLE masked (id int PRIMARY KEY, at timestamptz NOT NULL, d date, born timestamptz,
		                     tags text[], note text, dur interval);
		INSERT INTO masked SELECT g, now() - interval '3 days', '1990-05-06', '1990-05-06 12:00+00',
		                          '{x}', 'n' || g, '5 days' FROM generate_series(1, 3) g;
		SELECT retention.tag('masked', 'd', 'birth_date', 'constant(01/02/2000)');
		SELECT retention.tag('masked', 'born', 'birth_date', 'constant(2000-01-01 00:00)');
		SELECT retention.tag('masked', 'tags', 'other', 'constant({a,NULL})');
		SELECT retention.tag('masked', 'note', 'other', 'constant(a\\b)');
		SELECT retention.tag('masked', 'dur', 'other', 'constant(-1 2:00:00)');
		SELECT retention.add_policy('masked', '1 day', 'at', 'anonymize');
	});
}
setup('app');
setup('wk');

# what the constant masks must give: as PostgreSQL reads them by default, in UTC
my $masked_sql = q{SET datestyle = 'ISO, MDY'; SET timezone = 'UTC'; SET intervalstyle = 'postgres';
	SELECT string_agg(format('%s|%s|%s|%s|%s|%s', d, born, tags, tags[2] IS NULL, note, dur), ',' ORDER BY id) FROM masked};
my $masked_want = join(',', ('2000-01-02|2000-01-01 00:00:00+00|{a,NULL}|t|a\b|-1 days +02:00:00') x 3);
sub run_of
{
	my ($db, $tbl) = @_;
	return $node->safe_psql($db, qq{SELECT rows || '/' || skipped_locked || '/' || status || coalesce(' ' || error, '')
		FROM retention.runs WHERE tbl = '$tbl' ORDER BY run_id DESC LIMIT 1});
}

# --- CALL retention.run() and erase_subject(), the worker off -----------------------------

# session_replication_role = replica (SET): the cascade and the trigger still happen
my ($ret, $out, $err) = $node->psql('app', q{SET session_replication_role = replica; CALL retention.run('parent');
	SHOW session_replication_role});
is($ret, 0, 'CALL in a replica session succeeds') or diag $err;
is($out, 'replica', 'and leaves the session in replica');
is($node->safe_psql('app', 'SELECT count(*) FROM parent'), '2', 'expired parents deleted');
is($node->safe_psql('app', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM child}), '11,12',
	'their children went with them (ON DELETE CASCADE), no orphan keeps its e-mail');
is($node->safe_psql('app', 'SELECT count(*) FROM trail'), '10', 'the delete trigger fired for each parent');
is(run_of('app', 'public.parent'), '10/0/success', 'the run record');

# erase_subject() by a role set to replica (ALTER ROLE): the subject's trigger fires too
$node->safe_psql('app', q{SELECT retention.add_subject('member', 'parent', 'id')});
$node->safe_psql('postgres', q{ALTER ROLE officer SET session_replication_role = replica});
($ret, $out, $err) = $node->psql('app', q{SELECT current_setting('session_replication_role');
	SELECT string_agg(tbl || ':' || action || ':' || rows, ',' ORDER BY tbl::text) FROM retention.erase_subject('member', '11')},
	extra_params => ['-U', 'officer']);
is($out, "replica\nchild:delete:1,parent:delete:1", 'erase_subject in a replica session deletes the subject\'s rows') or diag $err;
is($node->safe_psql('app', q{SELECT count(*) FROM trail WHERE what = 'parent 11'}), '1', 'and fires the delete trigger');

# default_transaction_isolation = repeatable read (SET): a row deleted meanwhile by another session
($ret, $out, $err) = $node->psql('app', q{SET default_transaction_isolation = 'repeatable read'; CALL retention.run('busy');
	SHOW default_transaction_isolation});
is($ret, 0, 'CALL with repeatable read as the default succeeds') or diag $err;
is($out, 'repeatable read', 'and leaves the default as it was');
is($node->safe_psql('app', 'SELECT count(*) FROM busy'), '0', 'every expired row is gone, one deleted meanwhile by another session');
is(run_of('app', 'public.busy'), '4/0/success', 'the run deleted the other four, no serialization failure');

# the caller's repeatable read transaction block: a row changed since its snapshot is stepped around
my $connstr = dsn('app');
$node->safe_psql('app', q{CREATE TABLE orders (id int PRIMARY KEY, at timestamptz NOT NULL, note text);
	INSERT INTO orders SELECT g, now() - interval '3 days', 'o' || g FROM generate_series(1, 5) g;
	SELECT retention.add_policy('orders', '1 day', 'at')});
($ret, $out, $err) = $node->psql('app', qq{BEGIN ISOLATION LEVEL REPEATABLE READ;
	SELECT count(*) FROM orders;
	SELECT dblink_exec('$connstr', 'UPDATE orders SET note = ''changed'' WHERE id = 3');
	CALL retention.run('orders');
	COMMIT});
is($ret, 0, 'CALL inside a repeatable read block does not fail on a row changed since the snapshot') or diag $err;
like($err, qr/4 rows deleted in 1 batch; 0 blocked by foreign keys, 1 skipped \(locked\)/, 'the row is stepped around and counted');
is(run_of('app', 'public.orders'), '4/1/success', 'in the run record too');
is($node->safe_psql('app', 'SELECT string_agg(id::text, \',\') FROM orders'), '3', 'only the changed row is left');
$node->safe_psql('app', q{CALL retention.run('orders')});
is($node->safe_psql('app', 'SELECT count(*) FROM orders'), '0', 'a later run takes it');

# ALTER ROLE: default_transaction_read_only, serializable and row_security = off for the table owner
$node->safe_psql('app', q{CREATE TABLE visits (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO visits SELECT g, now() - interval '3 days' FROM generate_series(1, 7) g;
	ALTER TABLE visits OWNER TO alice; ALTER TABLE secret OWNER TO alice;
	SET ROLE alice; SELECT retention.add_policy('visits', '1 day', 'at')});
$node->safe_psql('postgres', q{ALTER ROLE alice SET default_transaction_read_only = on;
	ALTER ROLE alice SET default_transaction_isolation = 'serializable';
	ALTER ROLE alice SET row_security = off;
	ALTER ROLE officer SET default_transaction_read_only = on});
my $runs_before = $node->safe_psql('app', 'SELECT count(*) FROM retention.run_history');
($ret, $out, $err) = $node->psql('app', q{BEGIN; CALL retention.run('visits')}, extra_params => ['-U', 'alice']);
like($err, qr/ERROR:  cannot run retention policies in a read-only transaction/,
	'CALL inside a read-only transaction block is refused');
$node->psql('app', q{\set VERBOSITY verbose
	BEGIN; CALL retention.run('visits')}, stderr => \$err, extra_params => ['-U', 'alice']);
like($err, qr/ERROR:  25006: /, 'with SQLSTATE 25006');
like($err, qr/HINT:  Call it in a read-write transaction, or outside a transaction block, where it starts read-write transactions of its own\./,
	'and a hint');
is($node->safe_psql('app', 'SELECT count(*) FROM retention.run_history'), $runs_before, 'no run was recorded');
is($node->safe_psql('app', 'SELECT count(*) FROM visits'), '7', 'nothing was deleted');
($ret, $out, $err) = $node->psql('app', q{CALL retention.run('visits'); CALL retention.run('secret'); SHOW transaction_read_only},
	extra_params => ['-U', 'alice']);
is($ret, 0, 'outside a block, CALL of a read-only, serializable role succeeds') or diag $err;
is($out, 'on', 'and its session stays read-only');
is($node->safe_psql('app', 'SELECT count(*) FROM visits'), '0', 'its transactions could write: the rows are gone');
is(run_of('app', 'public.visits'), '7/0/success', 'the run record');
is($node->safe_psql('app', 'SELECT count(*) FROM secret'), '0',
	'row_security = off does not make the table with forced row security fail: its rows are gone');
is(run_of('app', 'public.secret'), '6/0/success', 'the run record of the table with forced row security');
my $ledger_before = $node->safe_psql('app', 'SELECT count(*) FROM retention.erasure_ledger');
($ret, $out, $err) = $node->psql('app', q{\set VERBOSITY verbose
	SELECT * FROM retention.erase_subject('member', '12')}, extra_params => ['-U', 'officer']);
like($err, qr/ERROR:  25006: cannot erase a data subject in a read-only transaction/,
	'erase_subject in a read-only transaction is refused with 25006');
is($node->safe_psql('app', 'SELECT count(*) FROM parent WHERE id = 12'), '1', 'the subject is untouched');
is($node->safe_psql('app', 'SELECT count(*) FROM retention.erasure_ledger'), $ledger_before, 'and no erasure recorded');

# formats (SET): constants read as PostgreSQL's defaults and UTC would, by CALL as by anyone
($ret, $out, $err) = $node->psql('app', q{SET datestyle = 'SQL, DMY'; SET timezone = 'Asia/Tokyo';
	SET intervalstyle = 'sql_standard'; SET array_nulls = off; SET standard_conforming_strings = off;
	SET transform_null_equals = on; SET extra_float_digits = -10; SET bytea_output = 'escape';
	CALL retention.run('masked');
	SELECT rows_due FROM retention.preview() WHERE tbl = 'masked'::regclass});
is($ret, 0, 'CALL with unusual DateStyle, TimeZone, IntervalStyle, array_nulls, ... succeeds') or diag $err;
is($out, '0', 'and its own preview finds nothing left to mask');
is($node->safe_psql('app', $masked_sql), $masked_want, 'the constants are read as PostgreSQL reads them by default, in UTC');
is($node->safe_psql('app', q{SELECT rows_due FROM retention.preview() WHERE tbl = 'masked'::regclass}), '0', 'a session with default settings finds nothing left to mask either');

# read-only and serializable defaults (SET): the transaction DETACH ... CONCURRENTLY starts can drop the partition
$node->safe_psql('app', q{CREATE TABLE events (id int, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
	CREATE TABLE events_now PARTITION OF events FOR VALUES FROM ('2021-01-01') TO ('2100-01-01');
	INSERT INTO events VALUES (1, '2020-05-01'), (2, '2020-06-01'), (3, now());
	SELECT retention.add_policy('events', '1 day', 'at')});
($ret, $out, $err) = $node->psql('app', q{SET default_transaction_read_only = on; SET default_transaction_isolation = 'serializable';
	CALL retention.run('events')});
is($ret, 0, 'CALL removing a partition whole with read-only, serializable defaults succeeds') or diag $err;
is($node->safe_psql('app', q{SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relname LIKE 'events%'}),
	'events,events_now', 'the expired partition is detached and dropped');
is(run_of('app', 'public.events'), '2/0/success', 'its rows are counted in the run record');

# statement_timeout (SET) bounds the CALL, and the run says it was interrupted
$node->safe_psql('app', q{CREATE TABLE slow (id int PRIMARY KEY, at timestamptz NOT NULL);
	CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.2); RETURN OLD; END $$;
	CREATE TRIGGER slow_delete BEFORE DELETE ON slow FOR EACH ROW EXECUTE FUNCTION slow_delete();
	INSERT INTO slow SELECT g, now() - interval '3 days' FROM generate_series(1, 5) g;
	SELECT retention.add_policy('slow', '1 day', 'at')});
($ret, $out, $err) = $node->psql('app', q{SET statement_timeout = '300ms'; CALL retention.run('slow')});
like($err, qr/ERROR:  canceling statement due to statement timeout/, 'the session\'s statement_timeout cancels its CALL');
is(run_of('app', 'public.slow'), '0/0/interrupted canceling statement due to statement timeout (SQLSTATE 57014)',
	'and the run is recorded as interrupted, not as a success');
is($node->safe_psql('app', 'SELECT count(*) FROM slow'), '5', 'the batch rolled back whole');

# --- the worker, in a database whose settings would break every statement -----------------

$node->safe_psql('wk', q{CREATE TABLE slow (id int PRIMARY KEY, at timestamptz NOT NULL);
	CREATE FUNCTION slow_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN OLD; END $$;
	CREATE TRIGGER slow_delete BEFORE DELETE ON slow FOR EACH ROW EXECUTE FUNCTION slow_delete();
	INSERT INTO slow SELECT g, now() - interval '3 days' FROM generate_series(1, 10) g;
	SELECT retention.add_policy('slow', '1 day', 'at')});
$node->safe_psql('postgres', q{
	ALTER DATABASE wk SET session_replication_role = replica;
	ALTER DATABASE wk SET default_transaction_isolation = 'serializable';
	ALTER DATABASE wk SET default_transaction_read_only = on;
	ALTER DATABASE wk SET row_security = off;
	ALTER DATABASE wk SET statement_timeout = '100ms';
	ALTER DATABASE wk SET idle_in_transaction_session_timeout = '100ms';
	ALTER DATABASE wk SET idle_session_timeout = '100ms';
	ALTER DATABASE wk SET datestyle = 'SQL, DMY';
	ALTER DATABASE wk SET timezone = 'Asia/Tokyo';
	ALTER DATABASE wk SET intervalstyle = 'sql_standard';
	ALTER DATABASE wk SET array_nulls = off;
	ALTER SYSTEM SET bytea_output = 'escape';
	ALTER SYSTEM SET retention.audit_anchor_interval = 1;
	ALTER SYSTEM SET retention.enabled = on;
	SELECT pg_reload_conf()});
my $secs = poll_until($node, 'wk', q{SELECT count(DISTINCT policy_id) FROM retention.runs WHERE status = 'success'}, '5', 60);
ok(defined $secs, 'the worker runs every policy of the database with success');
is($node->safe_psql('wk', q{SELECT string_agg(tbl || ' ' || rows || '/' || skipped_locked || '/' || status, ',' ORDER BY tbl)
	FROM (SELECT DISTINCT ON (tbl) * FROM retention.runs ORDER BY tbl, run_id) first_runs}),
	'public.busy 4/0/success,public.masked 3/0/success,public.parent 10/0/success,public.secret 6/0/success,public.slow 10/0/success',
	'each run deleted or masked every expired row');
is($node->safe_psql('wk', q{SELECT string_agg(id::text, ',' ORDER BY id) FROM child}), '11,12',
	'replica: the children of deleted parents went with them');
is($node->safe_psql('wk', 'SELECT count(*) FROM trail'), '10', 'replica: the delete trigger fired');
is($node->safe_psql('wk', 'SELECT count(*) FROM busy'), '0',
	'serializable: a row deleted meanwhile by another session made no batch fail');
is($node->safe_psql('wk', 'SELECT count(*) FROM secret'), '0', 'row_security = off: the table with forced row security is purged');
is($node->safe_psql('wk', 'SELECT count(*) FROM slow'), '0', 'statement_timeout: slow batches are not cut');
is($node->safe_psql('wk', $masked_sql), $masked_want, 'the worker reads the constant masks as CALL does');
# idle timeouts: the worker's session outlives its naptime and keeps working
$node->safe_psql('postgres', q{SELECT pg_sleep(1.5)});
$node->safe_psql('wk', q{BEGIN READ WRITE; INSERT INTO parent VALUES (13, now() - interval '3 days'); COMMIT});
ok(defined poll_until($node, 'wk', 'SELECT count(*) FROM parent WHERE id = 13', '0', 30),
	'after idling longer than idle_session_timeout, the worker still purges');
my $log = slurp_file($node->logfile);
like($log, qr/pg_retention audit anchor: database "wk", seq \d+, hash \\x[0-9a-f]{64}\n/,
	'bytea_output = escape: the worker logs its audit anchor in hex');
unlike($log, qr/\] pg_retention worker (ERROR|FATAL)|terminated by signal/, 'no worker error, no crash');

$node->stop;
done_testing();
