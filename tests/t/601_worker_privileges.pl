# The worker runs every policy as the owner of its table, never as the superuser
# it connects as: a trigger sees the owner as current_user and the safe
# search_path; a policy of a role that may not read a table cannot make the
# worker read it, nor change another role's table through it; and settings a
# table owner's code changes while the worker tests whether a policy is due
# (a row-security function here) stay out of the worker's session.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $node = sched_node('worker_privileges', "retention.naptime = '1h'");
$node->safe_psql('postgres', q{
	CREATE DATABASE app;
	CREATE ROLE alice;
	CREATE ROLE bob;
});
$node->safe_psql('app', q{
	CREATE EXTENSION pg_retention;
	CREATE SCHEMA alice AUTHORIZATION alice;
	CREATE SCHEMA bob AUTHORIZATION bob;
	GRANT USAGE ON SCHEMA alice TO bob;
	GRANT USAGE ON SCHEMA bob TO alice;
	SET ROLE bob;
	CREATE TABLE bob.secret (s text);
	INSERT INTO bob.secret VALUES ('only bob reads this');
	RESET ROLE;
	SET ROLE alice;
	CREATE TABLE alice.log (who name, path text);
	CREATE FUNCTION alice.note() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		INSERT INTO alice.log VALUES (current_user, current_setting('search_path'));
		RETURN OLD;
	END $$;
	CREATE TABLE alice.events (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO alice.events SELECT g, now() - interval '10 days' FROM generate_series(1, 30) g;
	CREATE TRIGGER note BEFORE DELETE ON alice.events FOR EACH ROW EXECUTE FUNCTION alice.note();
	-- a trigger that reads what alice may not read
	CREATE FUNCTION alice.peek() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM count(*) FROM bob.secret;
		RETURN OLD;
	END $$;
	CREATE TABLE alice.peeks (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO alice.peeks SELECT g, now() - interval '10 days' FROM generate_series(1, 5) g;
	CREATE TRIGGER peek BEFORE DELETE ON alice.peeks FOR EACH ROW EXECUTE FUNCTION alice.peek();
	-- row security whose function changes settings; it runs in the worker's due test
	CREATE FUNCTION alice.meddle() RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN
		PERFORM set_config('retention.batch_size', '1', false);
		PERFORM set_config('lock_timeout', '0', false);
		RETURN true;
	END $$;
	CREATE TABLE alice.watched (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO alice.watched SELECT g, now() - interval '10 days' FROM generate_series(1, 3) g;
	ALTER TABLE alice.watched ENABLE ROW LEVEL SECURITY;
	ALTER TABLE alice.watched FORCE ROW LEVEL SECURITY;
	CREATE POLICY everyone ON alice.watched USING (alice.meddle());
	-- a table whose run counts its batches: 50 rows are one batch, unless the batch size leaked
	CREATE TABLE alice.bulk (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO alice.bulk SELECT g, now() - interval '10 days' FROM generate_series(1, 50) g;
	RESET ROLE;
	-- bob's own table, whose trigger tries to empty alice's
	SET ROLE bob;
	CREATE FUNCTION bob.vandal() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		DELETE FROM alice.events;
		RETURN OLD;
	END $$;
	CREATE TABLE bob.junk (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO bob.junk VALUES (1, now() - interval '10 days');
	CREATE TRIGGER vandal BEFORE DELETE ON bob.junk FOR EACH ROW EXECUTE FUNCTION bob.vandal();
	RESET ROLE;
});

# bob cannot put a policy on alice's table for the worker to run
my ($ret, $out, $err) = $node->psql('app',
	q{SET ROLE bob; SELECT retention.add_policy('alice.events', '1 day', 'at')});
like($err, qr/must be owner of table alice\.events/, 'a stranger cannot give the worker a policy on the table');

# the policies, declared by their owners; watched first, so its due test comes first in the pass
$node->safe_psql('app', q{
	SET ROLE alice;
	SELECT retention.add_policy('alice.watched', '1 day', 'at');
	SELECT retention.add_policy('alice.bulk', '1 day', 'at');
	SELECT retention.add_policy('alice.events', '1 day', 'at');
	SELECT retention.add_policy('alice.peeks', '1 day', 'at');
	RESET ROLE;
	SET ROLE bob;
	SELECT retention.add_policy('bob.junk', '1 day', 'at');
});
# all five declared, a reload with a short naptime brings the worker's next pass
$node->safe_psql('app', q{ALTER SYSTEM SET retention.naptime = '1s'; SELECT pg_reload_conf()});
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM retention.runs WHERE finished_at IS NOT NULL', '5', 30),
	'the worker ran the five policies at once');
is($node->safe_psql('app', 'SELECT DISTINCT trigger FROM retention.runs'), 'worker', 'all five runs are the worker\'s');

is($node->safe_psql('app', q{SELECT who || ' | ' || path || ' | ' || count(*) FROM alice.log GROUP BY who, path}),
	'alice | pg_catalog, pg_temp | 30', 'each delete ran as alice with the safe search_path, not as the superuser');
is($node->safe_psql('app', q{SELECT status || ': ' || error FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'alice.peeks'::regclass}),
	'failed: permission denied for table secret (SQLSTATE 42501)',
	'a trigger reading a table alice may not read fails the run');
is($node->safe_psql('app', 'SELECT count(*) FROM alice.peeks'), '5', 'and its rows stay');
is($node->safe_psql('app', q{SELECT status || ': ' || error FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'bob.junk'::regclass}),
	'failed: permission denied for table events (SQLSTATE 42501)',
	'bob\'s policy cannot make the worker change alice\'s table');
is($node->safe_psql('app', 'SELECT count(*) FROM alice.events'), '0', 'alice\'s rows went by her own policy only');
is($node->safe_psql('app', q{SELECT rows || '/' || batches FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'alice.bulk'::regclass}), '50/1',
	'the batch size the due test\'s row-security function set did not reach the worker');
like(slurp_file($node->logfile), qr/retention policy \d+ on alice\.peeks failed: permission denied for table secret/,
	'the worker logs the failure');
$node->stop;
done_testing();
