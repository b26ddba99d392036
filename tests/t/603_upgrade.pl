# ALTER EXTENSION pg_retention UPDATE from 0.1.0 to the current version.  A
# database created at 0.1.0 keeps working with the current library until the
# update runs (every function, and the worker), each session being told once
# what to run; the update keeps every policy, tag, hold, erasure and audit
# entry; the updated objects are exactly those of a fresh installation; an
# update into a schema that others may change is refused and changes nothing;
# and the control file, META.json, the library and the Debian package agree on the version.
use strict;
use warnings;
use FindBin;
use JSON::PP;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $repo = "$FindBin::RealBin/../..";
my $dir = PostgreSQL::Test::Utils::tempdir;
my $node = sched_node('upgrade', "retention.key_file = '$dir/retention.key'");
$node->safe_psql('postgres', 'CREATE DATABASE old; CREATE DATABASE fresh; CREATE DATABASE guarded');

# the versions in step (META.json is PGXN Meta Spec v2: one version for the whole
# distribution; debian/changelog's is the upstream version, then "-" and the Debian revision)
my ($control) = slurp_file("$repo/pg_retention.control") =~ /default_version\s*=\s*'([^']+)'/;
my $meta_version = JSON::PP->new->decode(slurp_file("$repo/META.json"))->{version} // '';
my ($library) = slurp_file("$repo/include/version.h") =~ /#define RT_LIBRARY_VERSION "([^"]+)"/;
my ($package) = slurp_file("$repo/debian/changelog") =~ /\A\S+ \(([^)-]+)-[^)]+\)/;
is(join(',', $meta_version, $library, $package // ''), join(',', ($control) x 3),
	"control file, META.json, the library and debian/changelog all say $control");
# the chain of update scripts leads from 0.1.0 to the current version, one step a version
my $from = '0.1.0';
for my $script (sort glob("$repo/pg_retention--*--*.sql"))
{
	my ($a, $b) = $script =~ /pg_retention--([\d.]+)--([\d.]+)\.sql$/;
	$from = $b if $a eq $from;
}
is($from, $control, "the update scripts lead from 0.1.0 to $control");

# a database at 0.1.0, used through the current library
my $setup = q{
	CREATE TABLE members (id int PRIMARY KEY, name text, email text, left_at timestamptz);
	INSERT INTO members SELECT g, 'Member ' || g, 'm' || g || '@example.com',
	       CASE WHEN g <= 20 THEN now() - interval '2 years' END FROM generate_series(1, 40) g;
	CREATE TABLE visits (id int PRIMARY KEY, member int REFERENCES members, at timestamptz NOT NULL);
	INSERT INTO visits SELECT g, 1 + g % 40, now() - (g % 100) * interval '1 day' FROM generate_series(1, 400) g;
	SELECT retention.create_key();
	SELECT retention.tag('members', 'name', 'name');
	SELECT retention.tag('members', 'email', 'email', 'pseudonym');
	SELECT retention.add_policy('members', '1 year', 'left_at', 'anonymize');
	SELECT retention.add_subject('member', 'members', 'id');
	SELECT retention.hold('member', '3', 'dispute 9');
	SELECT * FROM retention.erase_subject('member', '4');
	SELECT count(*) FROM retention.preview();
	SELECT count(*) FROM retention.status;
};
my ($ret, $out, $err) = $node->psql('old', "CREATE EXTENSION pg_retention VERSION '0.1.0'; $setup");
is($ret, 0, 'tags, policies, subjects, holds, erasure, preview and status work on the 0.1.0 objects') or diag $err;
is($node->safe_psql('old', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}), '0.1.0',
	'the database is at 0.1.0');
my @warnings = $err =~ /WARNING:  extension "pg_retention" is at version 0\.1\.0, older than its library \(version \Q$control\E\)/g;
is(scalar @warnings, 1, 'the session is warned once');
like($err, qr/HINT:  Run ALTER EXTENSION pg_retention UPDATE; in this database\./, 'and told what to run');
($ret, $out, $err) = $node->psql('old', q{CALL retention.run('members'); SELECT count(*) FROM members WHERE name LIKE 'ps:%'});
is($out, '19', 'a manual run anonymizes on the 0.1.0 objects (20 closed, one held)');
($ret, $out, $err) = $node->psql('old', 'SELECT retention.library_version()');
like($err, qr/function retention\.library_version\(\) does not exist/, 'what 0.2.0 added is not there yet');
# the worker runs there too, and says once what to run
$node->safe_psql('old', q{SELECT retention.add_policy('visits', '30 days', 'at')});
# (member 3 is on legal hold: its visits stay)
ok(defined poll_until($node, 'old',
	q{SELECT count(*) FROM visits WHERE at < now() - interval '30 days' AND member <> 3}, '0', 30),
	'the worker runs the policy of a 0.1.0 database');
my $log = slurp_file($node->logfile);
my @worker_warnings = $log =~ /\] WARNING:  extension "pg_retention" is at version 0\.1\.0/g;
cmp_ok(scalar @worker_warnings, '>=', 1, 'the worker logs the warning');
unlike($log, qr/PANIC|TRAP|server process .* was terminated/, 'nothing crashed');

# the update
my %q = (
	policies => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s', policy_id, tbl, keep, action, enabled, created_at), ',' ORDER BY 1)
	                FROM retention.policies},
	tags => q{SELECT string_agg(format('%s.%s=%s', table_name, column_name, mask), ',' ORDER BY 1) FROM retention.personal_columns},
	holds => q{SELECT string_agg(format('%s|%s|%s', hold_id, id, active), ',' ORDER BY 1) FROM retention.holds},
	ledger => q{SELECT string_agg(format('%s|%s|%s', erasure_id, subject_hash, status), ',' ORDER BY 1) FROM retention.erasures},
	audit => q{SELECT string_agg(format('%s|%s|%s', seq, event, encode(hash, 'hex')), ',' ORDER BY seq) FROM retention.audit},
	runs => q{SELECT string_agg(format('%s|%s|%s', run_id, rows, status), ',' ORDER BY run_id) FROM retention.runs},
);
my %before = map { $_ => $node->safe_psql('old', $q{$_}) } keys %q;
# an index that calls a text mask was built by an older library (digits of other
# scripts taken for masked): the update rebuilds it, and only it
$node->safe_psql('old', q{
	CREATE TABLE phones (id int, phone text, closed_at timestamptz);
	INSERT INTO phones VALUES (1, '１３８１２３４５６７８', now() - interval '2 years');
	CREATE INDEX phones_pending ON phones (closed_at)
	 WHERE NOT (phone IS NULL OR (phone COLLATE "C") OPERATOR(pg_catalog.=) retention.mask_phone(phone));
	CREATE INDEX phones_closed ON phones (closed_at);
});
my $filenodes = q{SELECT string_agg(relname || '=' || relfilenode, ',' ORDER BY relname) FROM pg_class
	WHERE relname IN ('phones_pending', 'phones_closed')};
my $filenodes_before = $node->safe_psql('old', $filenodes);
($ret, $out, $err) = $node->psql('old', 'ALTER EXTENSION pg_retention UPDATE');
is($ret, 0, 'ALTER EXTENSION pg_retention UPDATE') or diag $err;
my ($pending_before) = $filenodes_before =~ /phones_pending=(\d+)/;
my ($closed_before) = $filenodes_before =~ /phones_closed=(\d+)/;
my $filenodes_after = $node->safe_psql('old', $filenodes);
unlike($filenodes_after, qr/phones_pending=$pending_before\b/, 'the index calling retention.mask_phone is rebuilt');
like($filenodes_after, qr/phones_closed=$closed_before\b/, 'a plain index is left alone');
is($node->safe_psql('old', q{SELECT extversion || '/' || retention.library_version() FROM pg_extension
	WHERE extname = 'pg_retention'}), "$control/$control", "the database is at $control, as the library");
for my $k (sort keys %q)
{
	is($node->safe_psql('old', $q{$k}), $before{$k}, "$k unchanged by the update");
}
is($node->safe_psql('old', 'SELECT ok FROM retention.verify_audit()'), 't', 'the audit verifies after the update');
($ret, $out, $err) = $node->psql('old', q{SELECT count(*) FROM retention.preview()});
unlike($err, qr/WARNING/, 'no warning once updated');

# the updated objects are those of a fresh installation
$node->safe_psql('fresh', 'CREATE EXTENSION pg_retention');
my $objects = q{
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
	  SELECT pg_describe_object(classid, objid, objsubid) || ' ' || coalesce(CASE classid
	           WHEN 'pg_proc'::regclass THEN pg_get_functiondef(objid)
	           WHEN 'pg_class'::regclass THEN coalesce(pg_get_viewdef(objid), '') || (SELECT string_agg(a.attname || ' '
	                || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || coalesce(' ' || pg_get_expr(ad.adbin, ad.adrelid), ''), ',' ORDER BY a.attnum)
	                FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
	               WHERE a.attrelid = objid AND a.attnum > 0 AND NOT a.attisdropped)
	                || coalesce(' ' || (SELECT relacl::text FROM pg_class WHERE oid = objid), '')
	           WHEN 'pg_event_trigger'::regclass THEN (SELECT evtevent || ' ' || evtfoid::regproc || ' ' || coalesce(evttags::text, '')
	                || ' enabled ' || evtenabled::text FROM pg_event_trigger WHERE oid = objid)
	         END, '') || ' ' || coalesce(obj_description(objid, classid::regclass::text), '') AS d
	    FROM pg_depend WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
	     AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_retention')
	  UNION ALL
	  SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
	    FROM pg_constraint WHERE connamespace = 'retention'::regnamespace
	  UNION ALL
	  SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'retention'
	  UNION ALL
	  SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
	   WHERE c.relnamespace = 'retention'::regnamespace AND NOT t.tgisinternal
	  UNION ALL
	  SELECT 'function acl ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, '')
	    FROM pg_proc p WHERE p.pronamespace = 'retention'::regnamespace
	  UNION ALL
	  SELECT 'schema ' || nspname || ' ' || coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'retention') s};
my $fresh = $node->safe_psql('fresh', $objects);
cmp_ok(length $fresh, '>', 10000, 'the description of a fresh installation covers its objects');
# the guards fire in every session_replication_role (ENABLE ALWAYS), in a fresh installation as after an update
is(join(',', $fresh =~ /^event trigger (\w+) .* enabled (\w)/mg),
	'retention_ddl_end,A,retention_ddl_start,A,retention_sql_drop,A',
	'the event triggers of a fresh installation are ENABLE ALWAYS');
is(join(',', $fresh =~ /^trigger CREATE TRIGGER (\w+) .* enabled (\w)$/mg),
	'audit_append_only,A,audit_no_truncate,A,hold_catalog_changed,A,policy_catalog_changed,A,'
	. 'policy_throttle_dropped,A,subject_catalog_changed,A,subject_link_catalog_changed,A',
	'and so are the guard triggers of the audit and the triggers that tell sessions the catalogs changed');
is($node->safe_psql('old', $objects), $fresh, 'the updated database has exactly the objects of a fresh one');

# an update where others may change the schema is refused, and leaves 0.1.0 as it was
$node->safe_psql('guarded', q{CREATE EXTENSION pg_retention VERSION '0.1.0'; CREATE ROLE planter;
	GRANT CREATE ON SCHEMA retention TO planter});
($ret, $out, $err) = $node->psql('guarded', 'ALTER EXTENSION pg_retention UPDATE');
like($err, qr/ERROR:  schema retention can be changed by roles that are not superusers: planter/,
	'an update into a schema others may change is refused');
is($node->safe_psql('guarded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}), '0.1.0',
	'and the database stays at 0.1.0');
$node->safe_psql('guarded', 'REVOKE CREATE ON SCHEMA retention FROM planter; ALTER EXTENSION pg_retention UPDATE');
is($node->safe_psql('guarded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'}), $control,
	'once the grant is gone the update goes through');
$node->stop;
done_testing();
