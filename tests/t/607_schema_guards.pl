# The protections hold in every session_replication_role, and schema
# retention keeps its name: renaming it (or an object in it), moving one of
# its objects to another schema, or handing it to a role that is not a
# superuser is refused with a clear error before anything changes; after the
# refusal unrelated DDL and the policies work; in replica, DROP COLUMN of an
# anchor, DROP TABLE, RENAME COLUMN and the audit's append-only guard behave
# as in origin; ALTER EXTENSION ... SET SCHEMA and DROP SCHEMA retention get
# PostgreSQL's own errors.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $node = new_cluster('schema_guards');
$node->safe_psql('postgres', q{
	CREATE ROLE bob LOGIN; CREATE ROLE admin SUPERUSER;
	CREATE EXTENSION pg_retention;
	CREATE TABLE visits (id int PRIMARY KEY, at timestamptz NOT NULL, ip inet);
	INSERT INTO visits SELECT g, now() - interval '3 days' FROM generate_series(1, 8) g;
	SELECT retention.add_policy('visits', '1 day', 'at');
});

# Runs $sql with verbose errors; returns its stderr.
sub fails
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return $err;
}

my $schema_before = $node->safe_psql('postgres', q{SELECT nspname || ' ' || nspowner::regrole || ' ' || coalesce(nspacl::text, '')
	FROM pg_namespace WHERE oid = (SELECT extnamespace FROM pg_extension WHERE extname = 'pg_retention')});
is($schema_before, 'retention postgres {postgres=UC/postgres,=U/postgres}', 'the extension\'s schema');

my %refused = (
	'ALTER SCHEMA retention RENAME TO r2' =>
	  qr/ERROR:  0A000: cannot rename schema retention of extension pg_retention\nDETAIL:  The extension refers to its schema and objects by name; renamed, they would break its runs and the event triggers that every ALTER TABLE of the database fires\.\nHINT:  Keep the names; to remove the extension, use DROP EXTENSION pg_retention\./,
	'ALTER TABLE retention.policy_catalog RENAME TO pc' =>
	  qr/ERROR:  0A000: cannot rename table retention\.policy_catalog of extension pg_retention/,
	'ALTER TABLE retention.policy_catalog RENAME COLUMN anchor TO a' =>
	  qr/ERROR:  0A000: cannot rename column anchor of table retention\.policy_catalog of extension pg_retention/,
	'ALTER TRIGGER audit_append_only ON retention.audit RENAME TO x' =>
	  qr/ERROR:  0A000: cannot rename trigger audit_append_only of table retention\.audit of extension pg_retention/,
	'ALTER FUNCTION retention.tag(regclass, name, text, text) RENAME TO tag2' =>
	  qr/ERROR:  0A000: cannot rename function retention\.tag\(regclass,name,text,text\) of extension pg_retention/,
	'ALTER VIEW retention.runs RENAME TO r' =>
	  qr/ERROR:  0A000: cannot rename view retention\.runs of extension pg_retention/,
	'ALTER TABLE retention.policy_catalog SET SCHEMA public' =>
	  qr/ERROR:  0A000: cannot move table retention\.policy_catalog of extension pg_retention to schema public\nDETAIL:  The extension refers to its objects as retention\.\*; moved, they would break its runs and the event triggers that every ALTER TABLE of the database fires\./,
	'ALTER FUNCTION retention.tag(regclass, name, text, text) SET SCHEMA public' =>
	  qr/ERROR:  0A000: cannot move function retention\.tag\(regclass,name,text,text\) of extension pg_retention to schema public/,
	'ALTER SEQUENCE retention.policy_catalog_policy_id_seq SET SCHEMA public' =>
	  qr/ERROR:  0A000: cannot move sequence retention\.policy_catalog_policy_id_seq of extension pg_retention to schema public/,
	'ALTER SCHEMA retention OWNER TO bob' =>
	  qr/ERROR:  42501: cannot make role bob the owner of schema retention of extension pg_retention\nDETAIL:  A role that is not a superuser could put functions or operators there that run with the rights of whoever runs a policy\.\nHINT:  Leave it to a superuser\./,
	'ALTER TABLE retention.audit OWNER TO bob' =>
	  qr/ERROR:  42501: cannot make role bob the owner of table retention\.audit of extension pg_retention/,
	'ALTER FUNCTION retention.mask_email(text) OWNER TO bob' =>
	  qr/ERROR:  42501: cannot make role bob the owner of function retention\.mask_email\(text\) of extension pg_retention/,
	'ALTER TYPE retention.audit OWNER TO bob' =>
	  qr/ERROR:  42501: cannot make role bob the owner of type retention\.audit of extension pg_retention/,
	'GRANT CREATE ON SCHEMA retention TO bob' =>
	  qr/ERROR:  42501: cannot grant CREATE on schema retention of extension pg_retention to bob/,
	'GRANT ALL ON SCHEMA retention TO PUBLIC' =>
	  qr/ERROR:  42501: cannot grant CREATE on schema retention of extension pg_retention to PUBLIC/,
);
for my $role ('origin', 'replica')
{
	for my $sql (sort keys %refused)
	{
		like(fails("SET session_replication_role = $role; $sql"), $refused{$sql}, "$role: $sql is refused");
	}
}
is($node->safe_psql('postgres', q{SELECT nspname || ' ' || nspowner::regrole || ' ' || coalesce(nspacl::text, '')
	FROM pg_namespace WHERE oid = (SELECT extnamespace FROM pg_extension WHERE extname = 'pg_retention')}),
	$schema_before, 'the schema is as it was');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relnamespace = 'retention'::regnamespace
	AND relname IN ('policy_catalog', 'audit', 'runs') AND relowner = 'postgres'::regrole}), '3', 'its objects too');

# what is allowed stays allowed
$node->safe_psql('postgres', q{ALTER SCHEMA retention OWNER TO admin});
is($node->safe_psql('postgres', q{SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'retention'}), 'admin',
	'a superuser may own the schema');
$node->safe_psql('postgres', q{ALTER SCHEMA retention OWNER TO postgres; GRANT USAGE ON SCHEMA retention TO bob;
	CREATE SCHEMA other; ALTER SCHEMA other RENAME TO other2; CREATE TABLE other2.t (a int); ALTER TABLE other2.t RENAME TO t2;
	ALTER TABLE other2.t2 SET SCHEMA public; ALTER TABLE public.t2 OWNER TO bob;
	CREATE TYPE mood AS ENUM ('calm'); ALTER TYPE mood OWNER TO bob; ALTER TYPE mood RENAME TO mood2;
	ALTER TYPE mood2 SET SCHEMA other2; CREATE TYPE pair AS (a int, b int); ALTER TYPE pair RENAME ATTRIBUTE a TO c;
	CREATE DOMAIN count_t AS int; ALTER DOMAIN count_t OWNER TO bob;
	CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; ALTER FUNCTION f() RENAME TO g; ALTER FUNCTION g() OWNER TO bob;
	CREATE AGGREGATE total(int) (SFUNC = int4pl, STYPE = int); ALTER AGGREGATE total(int) RENAME TO sum2});
is($node->safe_psql('postgres', q{SELECT relowner::regrole FROM pg_class WHERE oid = 'public.t2'::regclass}), 'bob',
	'renaming, moving and giving away objects outside schema retention is not affected');
is($node->safe_psql('postgres', q{SELECT typowner::regrole || ' ' || typnamespace::regnamespace FROM pg_type WHERE typname = 'mood2'}),
	'bob other2', 'types, domains, functions and aggregates outside it neither');

# after the refusals, unrelated DDL and the policies work
my ($ret, $out, $err) = $node->psql('postgres', q{CREATE TABLE later (id int); ALTER TABLE visits ADD COLUMN note text;
	ALTER TABLE visits RENAME COLUMN note TO remark; CALL retention.run('visits')});
is($ret, 0, 'CREATE TABLE, ALTER TABLE of a table with a policy, and a run still work') or diag $err;
is($node->safe_psql('postgres', 'SELECT count(*) FROM visits'), '0', 'the policy ran');

# PostgreSQL's own refusals
like(fails('ALTER EXTENSION pg_retention SET SCHEMA public'),
	qr/ERROR:  0A000: extension "pg_retention" does not support SET SCHEMA/, 'ALTER EXTENSION ... SET SCHEMA is refused by PostgreSQL');
like(fails('DROP SCHEMA retention'),
	qr/ERROR:  2BP01: cannot drop schema retention because other objects depend on it\nDETAIL:  extension pg_retention depends on schema retention/,
	'DROP SCHEMA retention is refused by PostgreSQL');

# replica: the DDL guards and the audit guard fire as in origin
$node->safe_psql('postgres', q{INSERT INTO visits SELECT g, now() - interval '3 days' FROM generate_series(1, 3) g;
	CREATE TABLE gone (id int PRIMARY KEY, at timestamptz NOT NULL); SELECT retention.add_policy('gone', '1 day', 'at')});
for my $role ('origin', 'replica')
{
	like(fails("SET session_replication_role = $role; ALTER TABLE visits DROP COLUMN at"),
		qr/ERROR:  2BP01: cannot drop column at of table public\.visits because retention policy 1 uses it\nHINT:  Drop the policy first: SELECT retention\.drop_policy\(1\);/,
		"$role: DROP COLUMN of the anchor is refused");
	like(fails("SET session_replication_role = $role; ALTER TABLE visits ALTER COLUMN at TYPE text"),
		qr/ERROR:  2BP01: column at of table public\.visits is the anchor of retention policy 1 and must keep a date, timestamp or timestamptz type/,
		"$role: retyping the anchor is refused");
	for my $dml ('UPDATE retention.audit SET rows = 0', 'DELETE FROM retention.audit', 'TRUNCATE retention.audit')
	{
		my ($verb) = $dml =~ /^(\w+)/;
		like(fails("SET session_replication_role = $role; $dml"),
			qr/ERROR:  42501: the retention audit trail is append-only\nDETAIL:  $verb on retention\.audit is not allowed\./,
			"$role: $verb of the audit is refused");
	}
}
$node->safe_psql('postgres', q{SET session_replication_role = replica; ALTER TABLE visits RENAME COLUMN at TO seen_at});
is($node->safe_psql('postgres', q{SELECT after FROM retention.policies WHERE tbl = 'visits'::regclass}), 'seen_at',
	'replica: the policy follows RENAME COLUMN of its anchor');
$node->safe_psql('postgres', q{SET session_replication_role = replica; DROP TABLE gone});
is($node->safe_psql('postgres', q{SELECT count(*) FROM retention.policy_catalog WHERE relid::oid NOT IN (SELECT oid FROM pg_class)}),
	'0', 'replica: DROP TABLE takes its policy along');
is($node->safe_psql('postgres', q{SELECT tbl FROM retention.audit WHERE event = 'policy_dropped_with_table'}), 'public.gone',
	'and the audit says so');
is($node->safe_psql('postgres', 'SELECT ok FROM retention.verify_audit()'), 't', 'the audit trail verifies');
$node->safe_psql('postgres', q{CALL retention.run('visits')});
is($node->safe_psql('postgres', 'SELECT count(*) FROM visits'), '0', 'the policy runs on the renamed anchor');

$node->stop;
done_testing();
