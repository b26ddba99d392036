# RestoreTest.pm: helpers shared by the TAP tests of backups and restores
# (tests/t/71N_*.pl): clusters with the scheduler preloaded that share one
# pseudonymization key and one ledger file outside their data directories,
# and a small shop whose customers are data subjects.
package RestoreTest;

use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(restore_node setup_shop shop_conf count_in_log);

# Returns the postgresql.conf lines every node of a test shares: the key and the ledger file in $dir.
sub shop_conf
{
	my ($dir) = @_;
	return ("shared_preload_libraries = 'pg_retention'", "timezone = 'UTC'", "log_timezone = 'UTC'",
		"retention.naptime = '1s'", "retention.audit_anchor_interval = '1s'",
		"retention.key_file = '$dir/retention.key'", "retention.ledger_file = '$dir/retention.ledger'");
}

# Creates and starts a cluster named $name for the key and ledger file in
# $dir; %opt: allows_streaming, has_archiving, conf (more lines).
sub restore_node
{
	my ($name, $dir, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opt{allows_streaming} // 1, has_archiving => $opt{has_archiving} // 0);
	$node->append_conf('postgresql.conf', join("\n", shop_conf($dir), @{ $opt{conf} // [] }) . "\n");
	$node->start;
	return $node;
}

# Creates database $db on $node with pg_retention and a shop: $n customers
# (id, name, email; subjects of kind customer), two orders each, and 100
# visits two days old under a delete policy that keeps one hour, disabled
# here (a test enables it where it wants a run).  Creates the key when the
# file is not there yet.
sub setup_shop
{
	my ($node, $db, $dir, $n) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION pg_retention');
	$node->safe_psql($db, 'SELECT retention.create_key()') unless -e "$dir/retention.key";
	$node->safe_psql($db, qq{
		CREATE TABLE customer (id int PRIMARY KEY, name text NOT NULL, email text);
		CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer, total numeric);
		CREATE TABLE visits (id bigserial PRIMARY KEY, at timestamptz NOT NULL);
		INSERT INTO customer SELECT g, 'Customer ' || g, 'c' || g || '\@example.org' FROM generate_series(1, $n) g;
		INSERT INTO orders SELECT g, 1 + (g - 1) % $n, g FROM generate_series(1, 2 * $n) g;
		INSERT INTO visits (at) SELECT now() - interval '2 days' FROM generate_series(1, 100);
		SELECT retention.tag('customer', 'name', 'name');
		SELECT retention.tag('customer', 'email', 'email');
		SELECT retention.add_subject('customer', 'customer', 'id');
		SELECT retention.add_policy('visits', '1 hour', 'at', basis => 'web visits: one hour');
		SELECT retention.alter_policy(policy_id, enabled => false) FROM retention.policies;
	});
	return;
}

# Returns how many lines of $node's server log match $re.
sub count_in_log
{
	my ($node, $re) = @_;
	return scalar(grep { /$re/ } split /\n/, slurp_file($node->logfile));
}

1;
