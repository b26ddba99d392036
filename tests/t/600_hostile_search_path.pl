# A hostile search_path: an ordinary role plants functions, operators, an
# aggregate and a domain in schema public, each of which writes to a trap table
# when anything resolves to it, and every session of the database puts public
# before pg_catalog.  CREATE EXTENSION, tagging, policies, preview and status,
# manual runs (delete and anonymize, with pseudonyms), DDL the event triggers
# follow, subjects, holds, erasure, the ledger's export and replay, the audit
# check and the scheduler's worker all work, and the trap stays empty.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $node = sched_node('hostile_path', "retention.key_file = '$dir/retention.key'");
$node->safe_psql('postgres', q{
	CREATE DATABASE app;
	CREATE ROLE mallory LOGIN;
	CREATE ROLE alice LOGIN;
	CREATE ROLE officer LOGIN;
});
# the planted objects: every one records who reached it, then does the real work
$node->safe_psql('app', q{
	GRANT CREATE ON SCHEMA public TO mallory;
	SET ROLE mallory;
	CREATE TABLE public.trap (who name, what text, at timestamptz DEFAULT pg_catalog.clock_timestamp());
	GRANT INSERT, SELECT ON public.trap TO PUBLIC;
	CREATE FUNCTION public.sprung(what text) RETURNS boolean LANGUAGE sql AS
	  $$ INSERT INTO public.trap (who, what) VALUES (CURRENT_USER, what) RETURNING true $$;
	CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS
	  $$ SELECT CASE WHEN public.sprung('lower') THEN pg_catalog.lower($1) END $$;
	CREATE FUNCTION public.upper(text) RETURNS text LANGUAGE sql AS
	  $$ SELECT CASE WHEN public.sprung('upper') THEN pg_catalog.upper($1) END $$;
	CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql AS
	  $$ SELECT CASE WHEN public.sprung('now') THEN pg_catalog.now() END $$;
	CREATE FUNCTION public.t_eq(text, text) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('text =') AND $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE FUNCTION public.t_ne(text, text) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('text <>') AND $1 OPERATOR(pg_catalog.<>) $2 $$;
	CREATE FUNCTION public.t_lt(text, text) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('text <') AND $1 OPERATOR(pg_catalog.<) $2 $$;
	CREATE FUNCTION public.ts_eq(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('timestamptz =') AND $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE FUNCTION public.ts_ne(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('timestamptz <>') AND $1 OPERATOR(pg_catalog.<>) $2 $$;
	CREATE FUNCTION public.ts_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('timestamptz <') AND $1 OPERATOR(pg_catalog.<) $2 $$;
	CREATE FUNCTION public.i8_eq(bigint, bigint) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('bigint =') AND $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE FUNCTION public.oid_eq(oid, oid) RETURNS boolean LANGUAGE sql AS
	  $$ SELECT public.sprung('oid =') AND $1 OPERATOR(pg_catalog.=) $2 $$;
	CREATE FUNCTION public.js_get(jsonb, text) RETURNS text LANGUAGE sql AS
	  $$ SELECT CASE WHEN public.sprung('jsonb ->>') THEN $1 OPERATOR(pg_catalog.->>) $2 END $$;
	CREATE OPERATOR public.=  (LEFTARG = text, RIGHTARG = text, FUNCTION = public.t_eq);
	CREATE OPERATOR public.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = public.t_ne);
	CREATE OPERATOR public.<  (LEFTARG = text, RIGHTARG = text, FUNCTION = public.t_lt);
	CREATE OPERATOR public.=  (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.ts_eq);
	CREATE OPERATOR public.<> (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.ts_ne);
	CREATE OPERATOR public.<  (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.ts_lt);
	CREATE OPERATOR public.=  (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.i8_eq);
	CREATE OPERATOR public.=  (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.oid_eq);
	CREATE OPERATOR public.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = public.js_get);
	CREATE FUNCTION public.cnt(bigint) RETURNS bigint LANGUAGE sql AS
	  $$ SELECT CASE WHEN public.sprung('count(*)') THEN $1 OPERATOR(pg_catalog.+) 1 END $$;
	CREATE AGGREGATE public.count(*) (SFUNC = public.cnt, STYPE = bigint, INITCOND = '0');
	CREATE DOMAIN public.text AS pg_catalog.text CHECK (public.sprung('domain text'));
	RESET ROLE;
	ALTER DATABASE app SET search_path = public, pg_catalog;
});
my $trap_rows = sub {
	$node->safe_psql('app', q{SET search_path = pg_catalog;
		SELECT coalesce(string_agg(who || ': ' || what, ', ' ORDER BY who, what), '') FROM public.trap});
};

# the trap works: unqualified names in a session of this database reach it
$node->safe_psql('app', q{SELECT lower('X'), 'a'::pg_catalog.text = 'a'::pg_catalog.text, now() < now()});
is($trap_rows->(), 'postgres: lower, postgres: now, postgres: now, postgres: text =, postgres: timestamptz <',
	'the trap catches unqualified lower, =, now and <');
$node->safe_psql('app', 'SET search_path = pg_catalog; DELETE FROM public.trap');

# (every statement of this test qualifies its own names, or it would spring the trap itself)

# the application, set up by its owner alice
$node->safe_psql('app', q{
	SET search_path = pg_catalog;
	CREATE SCHEMA shop AUTHORIZATION alice;
	GRANT USAGE ON SCHEMA shop TO officer;
	SET ROLE alice;
	CREATE TABLE shop.customers (id int PRIMARY KEY, name pg_catalog.text, email pg_catalog.text UNIQUE,
	                             closed timestamptz);
	CREATE TABLE shop.visits (id bigint PRIMARY KEY, customer int REFERENCES shop.customers,
	                          ip inet, at timestamptz NOT NULL);
	INSERT INTO shop.customers SELECT g, 'Name ' || g, 'c' || g || '@example.com',
	       CASE WHEN g <= 10 THEN timestamptz '2020-01-01' END FROM generate_series(1, 20) g;
	INSERT INTO shop.visits SELECT g, 1 + g % 20, ('10.0.' || g % 200 || '.7')::inet,
	       now() - (g % 60) * interval '1 day' FROM generate_series(1, 600) g;
});
my $as = sub {
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $node->psql('app', "SET ROLE $role; $sql");
	is($ret, 0, "$role: " . substr($sql =~ s/\s+/ /gr, 0, 70)) or diag $err;
	return $out;
};

# installing, with public first on the search_path of the installing session
$as->('postgres', 'CREATE EXTENSION pg_retention');
$as->('postgres', 'SELECT retention.create_key()');
$as->('postgres', 'GRANT retention_officer TO officer');
# tags and policies, by the table owner
$as->('alice', q{SELECT retention.tag('shop.customers', 'name', 'name')});
$as->('alice', q{SELECT retention.tag('shop.customers', 'email', 'email', 'pseudonym')});
$as->('alice', q{SELECT retention.tag('shop.visits', 'ip', 'ip_address')});
$as->('alice', q{SECURITY LABEL FOR retention ON COLUMN shop.visits.at IS 'other:generalize(month)'});
$as->('alice', q{SELECT retention.untag('shop.visits', 'at')});
my $del = $as->('alice', q{SELECT retention.add_policy('shop.visits', '30 days', 'at', batch_size => 100)});
my $anon = $as->('alice', q{SELECT retention.add_policy('shop.customers', '1 year', 'closed', 'anonymize')});
$as->('alice', qq{SELECT retention.alter_policy($anon, basis => 'closed accounts')});
$as->('alice', q{SELECT pg_catalog.count(*) FROM retention.preview()});
$as->('alice', q{SELECT pg_catalog.count(*) FROM retention.status});
$as->('alice', qq{SELECT retention.index_advice($del)});
# a manual run of the anonymize policy; the delete policy is left to the worker
$as->('alice', q{CALL retention.run('shop.customers')});
is($node->safe_psql('app', q{SET search_path = pg_catalog;
	SELECT count(*) FROM shop.customers WHERE name LIKE 'ps:%' AND email LIKE 'ps:%'}), '10',
	'the anonymize run pseudonymized the 10 closed accounts');
# the worker: its first pass deletes the visits older than 30 days
ok(defined poll_until($node, 'app', q{SET search_path = pg_catalog;
	SELECT count(*) FROM shop.visits WHERE at < pg_catalog.now() - interval '30 days'}, '0', 30),
	'the worker deleted the expired visits');
# DDL the event triggers follow
$as->('alice', q{ALTER TABLE shop.visits RENAME COLUMN at TO seen_at});
$as->('alice', q{CREATE INDEX ON shop.visits (seen_at)});
# subjects, holds, erasure, the ledger
$as->('alice', q{SELECT retention.add_subject('customer', 'shop.customers', 'id')});
my $hold = $as->('officer', q{SELECT retention.hold('customer', '15', 'court order')});
$as->('officer', q{SELECT pg_catalog.count(*) FROM retention.erase_subject('customer', '15')});
$as->('officer', qq{SELECT retention.release($hold)});
$as->('officer', q{SELECT pg_catalog.count(*) FROM retention.erase_subject('customer', '16')});
$as->('officer', q{SELECT retention.subject_data('customer', '17') IS NOT NULL});
my $ledger = $as->('officer', q{SELECT retention.export_erasures()});
$as->('officer', q{SELECT retention.import_erasures(retention.export_erasures())});
$as->('officer', q{SELECT pg_catalog.count(*) FROM retention.replay_erasures()});
$as->('postgres', q{SELECT ok FROM retention.verify_audit()});
# (the anonymize policy on customers keeps their rows, masked; their visits go)
is($node->safe_psql('app', q{SET search_path = pg_catalog;
	SELECT count(*) FILTER (WHERE name LIKE 'ps:%' AND email LIKE 'ps:%') || '/' ||
	       (SELECT count(*) FROM shop.visits WHERE customer IN (15, 16))
	  FROM shop.customers WHERE id IN (15, 16)}), '2/0', 'both erasures were carried out');
# the worker once more, after the rename
$node->safe_psql('app', q{SET search_path = pg_catalog; SET ROLE alice;
	INSERT INTO shop.visits VALUES (100001, 1, '10.1.1.1', pg_catalog.now() - interval '90 days')});
ok(defined poll_until($node, 'app', q{SET search_path = pg_catalog;
	SELECT count(*) FROM shop.visits WHERE id = 100001}, '0', 30),
	'the worker follows the renamed anchor column');
$as->('alice', qq{SELECT retention.drop_policy($del)});
$as->('alice', q{DROP TABLE shop.visits});

is($trap_rows->(), '', 'nothing reached the planted functions, operators, aggregate or domain');
is($node->safe_psql('app', q{SET search_path = pg_catalog;
	SELECT count(*) FROM retention.runs WHERE status <> 'success'}), '0', 'every run succeeded');
unlike(slurp_file($node->logfile), qr/ERROR|PANIC/, 'no error in the server log');
$node->stop;
done_testing();
