# retention.worker_role (docs/operations.md#the-worker-role): the database
# workers log in as a dedicated role that is neither a superuser nor the owner
# of any table, and every worker behaviour still works, each policy running as
# its table's owner: a purge (whose trigger sees the owner as current_user and
# the worker role as session_user, not a superuser), an anonymize run with
# pseudonyms, partitions removed whole with DETACH ... CONCURRENTLY, a pending
# erasure carried out when its hold expires (and the hold forgetting its
# subject), audit anchors in the log, and run history trimming.
#
# A role that cannot work is one clear WARNING, never a crash loop of failed
# logins: a database without CONNECT for the role, a retention.key_file given
# per database that the role may not take (the worker would otherwise
# pseudonymize with another key), a role that does not exist or may not log
# in.  Each is repaired by the GRANT or setting the message names.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use SchedTest;

# this test makes its own worker role (SchedTest would make one under RT_TEST_WORKER_ROLE)
delete $ENV{RT_TEST_WORKER_ROLE};
my $dir = PostgreSQL::Test::Utils::tempdir;
my $node = sched_node('worker_role', "retention.key_file = '$dir/retention.key'",
	"retention.worker_role = 'retention_worker'", 'retention.run_history_keep = 1',
	"retention.audit_anchor_interval = '1s'", 'retention.enabled = off');
my $q = sub { $node->safe_psql('app', shift) };
# Counts the lines of the server log matching a pattern.
my $lines = sub { my $re = shift; scalar(() = slurp_file($node->logfile) =~ /$re/g) };

$node->safe_psql('postgres', q{
	CREATE ROLE retention_worker LOGIN;
	CREATE ROLE alice;
	CREATE DATABASE app;
});
$q->(q{
	CREATE EXTENSION pg_retention;
	SELECT retention.create_key();
	CREATE SCHEMA shop AUTHORIZATION alice;
	SET ROLE alice;
	-- a purge whose trigger notes who runs it
	CREATE TABLE shop.log (who name, sess name, super text);
	CREATE FUNCTION shop.note() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO shop.log VALUES (current_user, session_user, current_setting('is_superuser'));
		RETURN OLD;
	END $$;
	CREATE TABLE shop.events (id bigserial PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO shop.events (at) SELECT now() - interval '10 days' FROM generate_series(1, 30);
	CREATE TRIGGER note BEFORE DELETE ON shop.events FOR EACH ROW EXECUTE FUNCTION shop.note();
	-- an anonymize policy with a pseudonym
	CREATE TABLE shop.accounts (id bigserial PRIMARY KEY, email text, phone text, closed_at timestamptz);
	INSERT INTO shop.accounts (email, phone, closed_at)
		SELECT 'user' || g || '@example.org', '+86 138 1234 ' || (1000 + g), now() - interval '10 days'
		  FROM generate_series(1, 20) g;
	-- a table partitioned by month, without a DEFAULT partition: partitions leave CONCURRENTLY
	CREATE TABLE shop.ticks (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE INDEX ON shop.ticks (at);
	DO $$
	DECLARE m timestamptz := date_trunc('month', now()) - interval '6 months';
	BEGIN
	  FOR i IN 0..7 LOOP
	    EXECUTE format('CREATE TABLE shop.ticks_%s PARTITION OF shop.ticks FOR VALUES FROM (%L) TO (%L)',
	                   i, m + i * interval '1 month', m + (i + 1) * interval '1 month');
	  END LOOP;
	END $$;
	INSERT INTO shop.ticks SELECT g, date_trunc('month', now()) - interval '6 months' + g * interval '1 hour'
	  FROM generate_series(0, 2000) g;
	INSERT INTO shop.ticks SELECT g, now() - g * interval '1 hour' FROM generate_series(1, 300) g;
	-- data subjects
	CREATE TABLE shop.customers (id int PRIMARY KEY, name text);
	CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers, at timestamptz);
	INSERT INTO shop.customers SELECT g, 'Customer ' || g FROM generate_series(1, 3) g;
	INSERT INTO shop.orders SELECT g, 1 + g % 3, now() FROM generate_series(1, 30) g;
	SELECT retention.tag('shop.accounts', 'email', 'email', 'pseudonym');
	SELECT retention.tag('shop.accounts', 'phone', 'phone');
	SELECT retention.tag('shop.customers', 'name', 'name');
	SELECT retention.add_policy('shop.events', '1 day', 'at');
	SELECT retention.add_policy('shop.accounts', '1 day', 'closed_at', 'anonymize');
	SELECT retention.add_policy('shop.ticks', '2 months', 'at');
	RESET ROLE;
	SELECT retention.add_subject('customer', 'shop.customers', 'id');
});
my $whole = $q->(q{SELECT count(*) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid
	WHERE i.inhparent = 'shop.ticks'::regclass
	  AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)'))[1]::timestamptz <= now() - interval '2 months'});
cmp_ok($whole, '>=', 3, "$whole partitions lie wholly before the cutoff");
my $hold = $q->(q{SELECT retention.hold('customer', '1', 'inquiry ending soon', now() + interval '3 seconds')});
is($q->(q{SELECT string_agg(DISTINCT action, ',') FROM retention.erase_subject('customer', '1')}), 'held',
	'the erasure of customer 1 waits for its hold');
is($q->(q{SELECT rolsuper::text || ',' || (SELECT count(*) FROM pg_class WHERE relowner = r.oid)
	FROM pg_roles r WHERE rolname = 'retention_worker'}), 'false,0', 'the worker role is no superuser and owns no table');

# the scheduler on: the workers log in as the role
$node->safe_psql('postgres', q{ALTER SYSTEM SET retention.enabled = on; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'postgres', q{SELECT string_agg(usename, ',') FROM pg_stat_activity
	WHERE backend_type = 'pg_retention worker' AND datname = 'app'}, 'retention_worker', 20),
	'the worker of database app is logged in as retention_worker');
like(slurp_file($node->logfile), qr/LOG:  pg_retention database workers log in as role retention_worker\n/,
	'the server log says which role the workers use');

# every worker behaviour
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM shop.events', '0', 30), 'purge: the expired events went');
is($q->(q{SELECT who || ' ' || sess || ' ' || super || ' ' || count(*) FROM shop.log GROUP BY who, sess, super}),
	'alice retention_worker off 30', 'each delete ran as alice, in a session of retention_worker, not a superuser');
ok(defined poll_until($node, 'app', q{SELECT count(*) FROM shop.accounts WHERE email LIKE 'ps:%' AND phone LIKE '%****%'}, '20', 30),
	'anonymize: the accounts carry pseudonyms and masked phones');
ok(defined poll_until($node, 'app', q{SELECT count(*) FROM retention.audit WHERE event = 'partition_dropped'}, $whole, 60),
	"partitions: the $whole months wholly past the cutoff were dropped whole");
is($q->(q{SELECT bool_and((details->>'concurrently')::boolean) AND bool_and(actor = 'retention_worker')
	FROM retention.audit WHERE event = 'partition_dropped'}), 't', 'with DETACH CONCURRENTLY, by the worker role');
is($q->(q{SELECT count(*) FROM shop.ticks WHERE at < now() - interval '2 months'}), '0', 'no expired tick is left');
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM shop.customers WHERE id = 1', '0', 30),
	'pending erasure: carried out once the hold expired');
is($q->(q{SELECT string_agg(status, ',') FROM retention.erasures}), 'done', 'the ledger says done');
ok(defined poll_until($node, 'app', "SELECT id IS NULL FROM retention.holds WHERE hold_id = $hold", 't', 30),
	'hold expiry: the expired hold forgets its subject');
my $anchored = 0;
for (1 .. 40) { last if ($anchored = $lines->(qr/LOG:  pg_retention audit anchor: database "app", seq \d+, hash \\x[0-9a-f]{64}/)); sleep 0.5; }
ok($anchored, 'audit anchors: the worker logs the head of the chain');
is($q->(q{SELECT string_agg(DISTINCT run_by || ':' || trigger || ':' || status, ',') FROM retention.runs}),
	'retention_worker:worker:success', 'the runs are the worker role\'s, and succeeded');
# more expired events: the next run of that policy, and the history trimmed to one record per policy
$q->(q{INSERT INTO shop.events (at) SELECT now() - interval '10 days' FROM generate_series(1, 5)});
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM shop.events', '0', 30), 'a second purge');
ok(defined poll_until($node, 'app', q{SELECT max(n) FROM (SELECT count(*) AS n FROM retention.run_history GROUP BY policy_id) c}, '1', 30),
	'run history trimming: one record kept per policy (retention.run_history_keep = 1)');
is($q->(q{SELECT rows FROM retention.runs r JOIN retention.policies p USING (policy_id) WHERE p.tbl = 'shop.events'::regclass}),
	'5', 'the record kept is the newest');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the audit chain verifies');

# a database where the role has no CONNECT: one WARNING, the worker leaves, no login is tried again and again
$q->('REVOKE CONNECT ON DATABASE app FROM PUBLIC');
ok(defined poll_until($node, 'postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'}, '0', 20),
	'without CONNECT the worker leaves');
sleep 4;
is(workers_in($node, 'app'), '0', 'and none comes back');
like(slurp_file($node->logfile),
	qr/WARNING:  pg_retention runs no policy in database app: role retention_worker has no CONNECT privilege on the database\n.*\n.*HINT:  GRANT CONNECT ON DATABASE app TO retention_worker;/,
	'the WARNING names the database, the role and the GRANT');
is($lines->(qr/pg_retention runs no policy in database app: role retention_worker has no CONNECT/), 1, 'once');
like(slurp_file($node->logfile), qr/LOG:  pg_retention worker leaves database app, where it runs as role retention_worker: role retention_worker has no CONNECT privilege on the database/,
	'the worker said why it left');
is($lines->(qr/FATAL|exited with exit code 1/), 0, 'no failed login, no worker crash');
is($q->('SELECT bool_and(next_run IS NULL) FROM retention.status'), 't', 'status: no next run while no worker can work here');
is($q->('SELECT running::text || \' \' || state FROM retention.scheduler_state()'), 'false worker_role',
	'scheduler_state says why: the worker role');
$q->('GRANT CONNECT ON DATABASE app TO retention_worker');
ok(defined poll_until($node, 'postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'app'}, '1', 20),
	'with the GRANT the worker is back');
is($q->('SELECT bool_and(next_run IS NOT NULL) FROM retention.status'), 't', 'status: next runs again');
is($q->('SELECT running::text || \' \' || state FROM retention.scheduler_state()'), 'true running', 'scheduler_state: running again');

# a key file given per database, which a non-superuser may not set: the worker would use another key
$q->(q{SELECT retention.create_key('} . "$dir/db.key" . q{')});
my $server_key = $q->('SELECT retention.key_fingerprint()');
$q->(qq{ALTER DATABASE app SET retention.key_file = '$dir/db.key'});
my $db_key = $q->('SELECT retention.key_fingerprint()');
isnt($db_key, $server_key, 'sessions of database app now pseudonymize with another key');
ok(defined poll_until($node, 'postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'}, '0', 20),
	'the worker, which could not take that setting, leaves');
like(slurp_file($node->logfile),
	qr/WARNING:  pg_retention runs no policy in database app: role retention_worker may not take the setting retention\.key_file that ALTER DATABASE or ALTER ROLE \.\.\. SET gives it\n.*\n.*HINT:  GRANT SET ON PARAMETER retention\.key_file TO retention_worker;/,
	'the WARNING names the setting and the GRANT');
$q->(q{INSERT INTO shop.accounts (email, closed_at) VALUES ('late@example.org', now() - interval '10 days')});
sleep 3;
is($q->(q{SELECT email FROM shop.accounts WHERE email = 'late@example.org'}), 'late@example.org',
	'no run pseudonymized with the wrong key meanwhile');
$q->('GRANT SET ON PARAMETER retention.key_file TO retention_worker');
ok(defined poll_until($node, 'app', q{SELECT count(*) FROM shop.accounts WHERE email = retention.pseudonym('late@example.org')}, '1', 30),
	'with the GRANT the worker pseudonymizes with the database\'s key');
is($q->(q{SELECT details->>'key_fingerprint' FROM retention.audit WHERE event = 'run' AND details->>'action' = 'anonymize'
	ORDER BY seq DESC LIMIT 1}), $db_key, 'its run records that key');
cmp_ok($lines->(qr/WARNING:  permission denied to set parameter "retention\.key_file"/), '<=', 5,
	'meanwhile the launcher tried again a few times, with growing pauses (PostgreSQL warns at each login)');
is($lines->(qr/WARNING:  pg_retention runs no policy in database app: role retention_worker may not take/), 1,
	'and warned once');

# a role that does not exist, then one that may not log in: one WARNING each, no worker, no crash
$node->safe_psql('postgres', q{ALTER SYSTEM SET retention.worker_role = 'nobody_here'; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'postgres', q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'}, '0', 20),
	'a missing role: the worker leaves');
sleep 3;
is($lines->(qr/WARNING:  pg_retention starts no database worker: role nobody_here does not exist/), 1,
	'one WARNING says the role does not exist');
is($q->('SELECT bool_and(next_run IS NULL) FROM retention.status'), 't', 'status: no next run');
is($q->('SELECT state FROM retention.scheduler_state()'), 'worker_role', 'scheduler_state: the role does not exist');
$node->safe_psql('postgres', q{CREATE ROLE sleeper NOLOGIN; ALTER SYSTEM SET retention.worker_role = 'sleeper'; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'postgres', q{SELECT 1}, '1', 1), 'reloaded');
sleep 3;
is($lines->(qr/WARNING:  pg_retention starts no database worker: role sleeper may not log in \(NOLOGIN\)/), 1,
	'one WARNING says the role may not log in');
is(workers_in($node, 'app'), '0', 'no worker meanwhile');
is($lines->(qr/FATAL|exited with exit code 1/), 0, 'and still no failed login, no worker crash');

# back to the bootstrap superuser: logged, and the worker is back
$node->safe_psql('postgres', q{ALTER SYSTEM SET retention.worker_role = ''; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'postgres', q{SELECT string_agg(r.rolsuper::text, ',') FROM pg_stat_activity a JOIN pg_roles r ON r.rolname = a.usename
	WHERE a.backend_type = 'pg_retention worker' AND a.datname = 'app'}, 'true', 20),
	'an empty retention.worker_role: the worker logs in as the bootstrap superuser');
like(slurp_file($node->logfile), qr/LOG:  pg_retention database workers log in as role \S+ \(a superuser\)\n.*DETAIL:  Each policy runs as the owner of its table; retention\.worker_role is empty\./,
	'and the log says so');
$node->stop;
done_testing();
