# RetentionTest.pm: helpers shared by the TAP tests of pg_retention.
#
# Finds the Pagila sample database beside the checkout (../shared/datasets/pagila,
# as CI has it) and starts clusters with the settings the tests share.
package RetentionTest;

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(pagila_dir new_cluster load_pagila pagila_keyed);

# Returns the directory holding pagila-schema.sql and pagila-data.sql.
sub pagila_dir
{
	my $repo = abs_path(dirname(__FILE__) . '/../..');
	for my $dir ($ENV{PAGILA_DIR}, "$repo/../shared/datasets/pagila", '/work/shared/datasets/pagila')
	{
		return $dir if defined $dir && -f "$dir/pagila-schema.sql";
	}
	BAIL_OUT('Pagila not found: set PAGILA_DIR or put shared/ beside the checkout');
}

# Creates and starts a cluster in UTC; extra lines go to postgresql.conf.
sub new_cluster
{
	my ($name, @conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', join("\n", "timezone = 'UTC'", "log_timezone = 'UTC'", @conf) . "\n");
	$node->start;
	return $node;
}

# Creates database $db on $node and loads Pagila into it.
sub load_pagila
{
	my ($node, $db) = @_;
	my $dir = pagila_dir();
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	for my $file ("$dir/pagila-schema.sql", "$dir/pagila-data.sql")
	{
		my ($ret, $out, $err) = $node->psql($db, undef, extra_params => [ '-f', $file ]);
		BAIL_OUT("loading $file failed: $err") if $ret != 0;
	}
	return;
}

# Returns a started cluster named $name with Pagila in database pagila and
# pg_retention created there with a new pseudonymization key, and the
# directory that holds the key file.
sub pagila_keyed
{
	my ($name) = @_;
	my $dir = PostgreSQL::Test::Utils::tempdir;
	my $node = new_cluster($name, "retention.key_file = '$dir/retention.key'");
	load_pagila($node, 'pagila');
	$node->safe_psql('pagila', 'CREATE EXTENSION pg_retention; SELECT retention.create_key()');
	return ($node, $dir);
}

1;
