# pg_dump -Fc of a database in full use (Pagila with tags, delete and anonymize
# policies that have run, a disabled policy, subjects and a link, legal holds
# active and released, erasures done and pending, the audit trail), restored
# with pg_restore: plain, with --clean over an earlier restore, with -j 2, into
# a cluster without the library preloaded and into one where it is preloaded
# and its worker wakes every second.  Each restore has the same tags,
# policies, holds, subjects, ledger, audit and data; the audit verifies; the
# worker makes no run while pg_restore is connected (the keys arrive last, and
# --clean drops them first), then recognizes the restore and runs no policy
# until retention.resume(); and the runs after the restore mask nothing
# twice: every value stays as it is.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $key = "$dir/retention.key";
my $plain = new_cluster('restore_plain', "retention.key_file = '$key'");
my $pre = sched_node('restore_preloaded', "retention.key_file = '$key'");
load_pagila($plain, 'src');
my $q = sub { $plain->safe_psql('src', shift) };

$q->(q{
	-- without it, every pass of the worker tests all 16044 blocked rentals against all payments
	CREATE INDEX ON payment (rental_id);
	CREATE EXTENSION pg_retention;
	SELECT retention.create_key();
	SELECT retention.tag('customer', 'first_name', 'name');
	SELECT retention.tag('customer', 'last_name', 'name');
	SELECT retention.tag('customer', 'email', 'email', 'pseudonym');
	SELECT retention.tag('address', 'phone', 'phone');
	SELECT retention.tag('address', 'address', 'address');
	SELECT retention.tag('payment', 'amount', 'other', 'generalize(5)');
	SELECT retention.add_policy('rental', '30 days', 'return_date', basis => 'rentals: 30 days after return');
	SELECT retention.add_policy('customer', '1 year', 'last_update', 'anonymize', columns => '{first_name,email}',
	                            basis => 'inactive customers');
	SELECT retention.add_policy('payment', '1 year', 'payment_date', 'anonymize', time_zone => 'Asia/Shanghai',
	                            batch_size => 2000);
	SELECT retention.add_policy('address', '2 years', 'last_update', 'anonymize');
	SELECT retention.alter_policy(4, enabled => false);
	SELECT retention.add_subject('customer', 'customer', 'customer_id');
	CREATE TABLE weblog (at timestamptz NOT NULL, customer_ref int, path text);
	INSERT INTO weblog SELECT timestamptz '2022-05-01' + g * interval '1 hour', 1 + g % 599, '/p/' || g
	  FROM generate_series(1, 300) g;
	SELECT retention.link_subject('customer', 'weblog', 'customer_ref');
	SELECT retention.add_policy('weblog', '30 days', 'at');
	SELECT retention.hold('customer', '7', 'court order 12/2026');
	SELECT retention.release(retention.hold('customer', '8', 'a hold since released'));
	SELECT retention.hold_table('inventory', 'stock audit');
});
# runs as of now: rentals are all blocked by the payments that reference them; the
# anonymize policies mask the customers and payments (customer 7, on hold, is skipped)
my ($ret, $out, $err) = $plain->psql('src', 'CALL retention.run()');
is($ret, 0, 'the runs of the source succeed');
like($err, qr/on public\.customer: \d+ rows anonymized/, 'customers were anonymized');
$q->(q{
	SELECT * FROM retention.erase_subject('customer', '9');
	SELECT * FROM retention.erase_subject('customer', '7');
});
is($q->(q{SELECT string_agg(status, ',' ORDER BY requested_at) FROM retention.erasures}), 'done,pending',
	'one erasure done, one pending behind its hold');
is($q->('SELECT ok FROM retention.verify_audit()'), 't', 'the source audit verifies');

# what must come back, as text
my %q = (
	tags => q{SELECT string_agg(format('%s.%s.%s=%s/%s', schema_name, table_name, column_name, category, mask), ',' ORDER BY 1)
	            FROM retention.personal_columns},
	policies => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s', policy_id, tbl, keep, after, action,
	                columns, batch_size, basis, time_zone, enabled, created_by, created_at), ',' ORDER BY policy_id)
	                FROM retention.policies},
	holds => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', hold_id, kind, id, tbl, reason, released_at IS NULL, active),
	             ',' ORDER BY hold_id) FROM retention.holds},
	subjects => q{SELECT string_agg(format('%s|%s|%s|%s', kind, tbl, key, links), ',' ORDER BY kind) FROM retention.subjects},
	ledger => q{SELECT string_agg(format('%s|%s|%s|%s|%s|%s|%s', erasure_id, kind, subject_hash, key_fingerprint, status,
	              waiting_for, rows), ',' ORDER BY requested_at) FROM retention.erasures},
	audit => q{SELECT string_agg(format('%s|%s|%s|%s|%s', seq, event, tbl, rows, encode(hash, 'hex')), ',' ORDER BY seq)
	             FROM retention.audit},
	runs => q{SELECT string_agg(format('%s|%s|%s|%s|%s', run_id, policy_id, rows, held, status), ',' ORDER BY run_id)
	            FROM retention.runs},
	# every row of every table of the application, as one checksum per table
	data => q{SELECT string_agg(c.relname || '=' || (xpath('/row/m/text()', query_to_xml(format(
	            'SELECT md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) AS m FROM %I.%I t',
	            n.nspname, c.relname), false, true, '')))[1]::text, ',' ORDER BY c.relname)
	            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition},
);
my %before = map { $_ => $q->($q{$_}) } keys %q;
like($before{data}, qr/customer=[0-9a-f]{32}/, 'the checksums cover the tables');

my $dump = "$dir/src.dump";
command_ok([ 'pg_dump', '-Fc', '-d', $plain->connstr('src'), '-f', $dump ], 'pg_dump -Fc');

# Restores the dump into database $db of $node with pg_restore options @opts; returns its errors.
sub restore
{
	my ($node, $db, @opts) = @_;
	# the test framework names every session after the test; a restore is known by its own name
	local $ENV{PGAPPNAME} = 'pg_restore';
	my ($stdout, $stderr) = run_command([ 'pg_restore', @opts, '-d', $node->connstr($db), $dump ]);
	# Pagila's partitioned primary key cannot be dropped per partition by --clean (PostgreSQL's limitation)
	return join "\n", grep { /error:/ && !/cannot drop inherited constraint/ } split /\n/, $stderr;
}

# Checks database $db of $node against the source.
sub compare
{
	my ($node, $db, $name) = @_;
	for my $k (sort keys %q)
	{
		is($node->safe_psql($db, $q{$k}), $before{$k}, "$name: $k identical");
	}
	is($node->safe_psql($db, 'SELECT ok FROM retention.verify_audit()'), 't', "$name: the audit verifies");
	is($node->safe_psql($db, 'SELECT count(*) FROM retention.categories'), '18', "$name: categories not doubled");
	return;
}

my @cases = (
	[ $plain, 'plain', 'r_plain', [] ],
	[ $plain, 'clean', 'r_clean', [ '--clean', '--if-exists' ] ],
	[ $plain, 'jobs', 'r_jobs', [ '-j', '2' ] ],
	[ $pre, 'preloaded -j 2', 'r_pre', [ '-j', '2' ] ],
	[ $pre, 'preloaded --clean', 'r_pre_clean', [ '--clean', '--if-exists' ] ],);
for my $case (@cases)
{
	my ($node, $name, $db, $opts) = @$case;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	# --clean restores over a database that already holds everything once
	is(restore($node, $db), '', "$name: first restore") if grep { $_ eq '--clean' } @$opts;
	my $restored_at = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	is(restore($node, $db, @$opts), '', "$name: pg_restore raises no error");
	my $done_at = $node->safe_psql('postgres', 'SELECT clock_timestamp()');
	compare($node, $db, $name) if $node == $plain;
	if ($node == $pre)
	{
		# the worker waited for pg_restore to leave; then it recognizes the restore (the ledger
		# was written from another cluster) and its policies wait until resume(); afterwards its
		# passes find nothing to do (nothing is masked twice), and the one expired row added
		# now is its only work
		is($node->safe_psql($db, "SELECT count(*) FROM retention.runs WHERE trigger = 'worker' AND started_at < '$done_at'"),
			'0', "$name: no worker run while pg_restore was connected");
		$node->safe_psql($db, "INSERT INTO weblog VALUES ('2022-01-01 00:00+00', 1, '/after-the-restore')");
		ok(defined poll_until($node, $db, q{SELECT array_to_string(signals, ',') || '/' || waiting FROM retention.restores},
			'moved/true', 30), "$name: the worker recognizes the restore");
		sleep 2;
		is($node->safe_psql($db, "SELECT count(*) FROM weblog WHERE path = '/after-the-restore'"), '1',
			"$name: its policies wait");
		is($node->safe_psql($db, 'SELECT retention.resume()'), 't', "$name: until resume()");
		ok(defined poll_until($node, $db, "SELECT count(*) FROM weblog WHERE path = '/after-the-restore'", '0', 30),
			"$name: the worker runs the policies after the restore");
		is($node->safe_psql($db, q{SELECT coalesce(sum(rows), 0) FROM retention.runs WHERE trigger = 'worker'}), '1',
			"$name: and changes no row but the one added");
		for my $k (grep { $_ ne 'runs' && $_ ne 'audit' } sort keys %q)
		{
			is($node->safe_psql($db, $q{$k}), $before{$k}, "$name: $k identical");
		}
		like($node->safe_psql($db, q{SELECT string_agg(format('%s|%s|%s|%s|%s', seq, event, tbl, rows, encode(hash, 'hex')),
			',' ORDER BY seq) FROM retention.audit}), qr/^\Q$before{audit}\E,[^,|]+\|restore_recognized\|/,
			"$name: the audit trail is the source's, continued by the restore and the worker's runs");
		is($node->safe_psql($db, 'SELECT ok FROM retention.verify_audit()'), 't', "$name: the audit verifies");
	}
	else
	{
		# a manual run after the restore masks nothing twice
		my ($r, $o, $e) = $node->psql($db, 'CALL retention.run()');
		is($r, 0, "$name: a run after the restore succeeds");
		is(join(',', $e =~ /: (\d+) rows? (?:deleted|anonymized)/g), '0,0,0,0', "$name: and changes no row");
		is($node->safe_psql($db, $q{data}), $before{data}, "$name: the data is unchanged by it");
		is($node->safe_psql($db, 'SELECT ok FROM retention.verify_audit()'), 't', "$name: the audit still verifies");
	}
}
unlike(slurp_file($pre->logfile), qr/PANIC|TRAP/, 'no crash in the preloaded cluster');
$plain->stop;
$pre->stop;
done_testing();
