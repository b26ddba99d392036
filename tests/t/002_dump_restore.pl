# pg_dump -Fc and pg_restore into a fresh database keep tags, policies, run records
# and the audit trail exactly once, and preview gives the same answer.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $node = new_cluster('dump_restore');
load_pagila($node, 'src');
my $setup = <<'SQL';
CREATE EXTENSION pg_retention;
SELECT retention.tag('customer', 'first_name', 'name');
SELECT retention.tag('customer', 'last_name', 'name');
SELECT retention.tag('customer', 'email', 'email');
SELECT retention.tag('address', 'phone', 'phone', 'partial(3,4)');
SELECT retention.tag('address', 'postal_code', 'postal_code');
SELECT retention.add_policy('rental', '30 days', 'return_date', basis => 'rentals: 30 days after return');
SELECT retention.add_policy('customer', '2 years', 'last_update', time_zone => 'Asia/Shanghai', batch_size => 100);
SELECT retention.alter_policy(2, enabled => false);
CALL retention.run('rental', '2022-06-01');
SQL
$node->safe_psql('src', $setup);

# what must survive, as text
my %q = (
	tags     => 'SELECT string_agg(format(\'%s.%s.%s=%s/%s\', schema_name, table_name, column_name, category, mask), \',\' ORDER BY 1) FROM retention.personal_columns',
	policies => 'SELECT string_agg(format(\'%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\', policy_id, tbl, keep, after, action, columns, batch_size, basis, time_zone, enabled, created_by), \',\' ORDER BY policy_id) FROM retention.policies',
	runs     => 'SELECT string_agg(format(\'%s|%s|%s|%s|%s\', run_id, policy_id, tbl, rows, status), \',\' ORDER BY run_id) FROM retention.runs',
	audit    => 'SELECT string_agg(format(\'%s|%s|%s|%s|%s\', seq, event, tbl, rows, encode(hash, \'hex\')), \',\' ORDER BY seq) FROM retention.audit',
	preview  => 'SELECT string_agg(format(\'%s|%s|%s|%s\', policy_id, rows_due, rows_undated, rows_blocked), \',\' ORDER BY policy_id) FROM retention.preview(\'2022-08-01\')',
);
my %before = map { $_ => $node->safe_psql('src', $q{$_}) } keys %q;
like($before{tags}, qr/public\.customer\.email=email\/email/, 'tags present before the dump');
like($before{runs}, qr/\|success/, 'a run is recorded before the dump');

my $dump = $node->basedir . '/src.dump';
command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump -Fc');

for my $case ([ 'plain', [] ], [ 'clean', [ '--clean', '--if-exists' ] ])
{
	my ($name, $opts) = @$case;
	my $db = "dst_$name";
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	# --clean restores over a database that already holds the data once
	if ($name eq 'clean')
	{
		command_ok([ 'pg_restore', '-d', $node->connstr($db), $dump ], 'first restore before --clean');
	}
	my ($stdout, $stderr) = run_command([ 'pg_restore', @$opts, '-d', $node->connstr($db), $dump ]);
	# pg_restore --clean cannot drop the per-partition copies of Pagila's partitioned
	# primary key (a PostgreSQL limitation); any other error fails the test
	my @errors = grep { /error:/ && !/cannot drop inherited constraint/ } split /\n/, $stderr;
	is(join("\n", @errors), '', "pg_restore ($name) raises no error of ours");
	for my $k (sort keys %q)
	{
		is($node->safe_psql($db, $q{$k}), $before{$k}, "$k identical after restore ($name)");
	}
	is($node->safe_psql($db, 'SELECT count(*) FROM retention.categories'), 18, "categories not duplicated ($name)");
	is($node->safe_psql($db, 'SELECT ok FROM retention.verify_audit()'), 't', "audit chain verifies after restore ($name)");
	# the restored catalog is alive: a new policy gets a new id, the audit chain continues
	my $id = $node->safe_psql($db, "SELECT retention.add_policy('payment', '7 years', 'payment_date')");
	is($id, 3, "the policy id sequence continues ($name)");
	is($node->safe_psql($db, 'SELECT ok FROM retention.verify_audit()'), 't', "audit chain continues after restore ($name)");
}

$node->stop;
done_testing();
