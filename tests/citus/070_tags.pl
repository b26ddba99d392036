# Tags on Citus tables reach every node: retention.tag() and untag() go through SECURITY
# LABEL, which Citus forwards to the workers' definitions of the table in the same
# distributed transaction, so coordinator and workers agree (docs/operations.md#citus).
use strict;
use warnings;

use CitusLab;
use Test::More;

my $c = CitusLab->new('t_tags');

$c->psql(0, q{
	CREATE TABLE acc (tenant int NOT NULL, id bigint NOT NULL, email text NOT NULL, phone text, PRIMARY KEY (tenant, id));
	SELECT create_distributed_table('acc', 'tenant', shard_count => 4);
	CREATE TABLE ref (id int PRIMARY KEY, street text);
	SELECT create_reference_table('ref');
});
my $label = q{SELECT COALESCE((SELECT label FROM pg_seclabel WHERE provider = 'retention' AND objoid = '%s'::regclass
                 AND objsubid = (SELECT attnum FROM pg_attribute WHERE attrelid = '%s'::regclass AND attname = '%s')), 'none')};

$c->psql(0, q{SELECT retention.tag('acc', 'email', 'email', 'pseudonym')});
is($c->on_every_node(sprintf($label, 'acc', 'acc', 'email')), 'email:pseudonym|email:pseudonym|email:pseudonym',
	'tag() on a distributed table: the same label on the coordinator and both workers');
$c->psql(0, q{SELECT retention.tag('acc', 'email', 'email')});
is($c->on_every_node(sprintf($label, 'acc', 'acc', 'email')), 'email|email|email', 'tagged again: changed on every node');
$c->psql(0, q{SELECT retention.tag('ref', 'street', 'address')});
is($c->on_every_node(sprintf($label, 'ref', 'ref', 'street')), 'address|address|address', 'a reference table too');

my $err = $c->psql_error(0, q{SELECT retention.tag('acc', 'email', 'email', 'null')});
like($err, qr/mask "null" would violate the NOT NULL constraint of column email/, 'a tag its column cannot take is refused');
is($c->on_every_node(sprintf($label, 'acc', 'acc', 'email')), 'email|email|email', 'and changes nothing on any node');

$c->psql(0, q{SELECT retention.untag('acc', 'email')});
is($c->on_every_node(sprintf($label, 'acc', 'acc', 'email')), 'none|none|none', 'untag() removes the label on every node');
is($c->psql(0, q{SELECT count(*) FILTER (WHERE event = 'tagged') || '/' || count(*) FILTER (WHERE event = 'untagged')
                 FROM retention.audit WHERE tbl = 'public.acc'}), '2/1', 'each tag and untag is one audit entry on the coordinator');
is($c->psql(0, q{SELECT count(*) FROM retention.personal_columns WHERE table_name = 'acc'}), '0',
	'personal_columns agrees');

# tagged before distribution: Citus copies the label with the table's definition
$c->psql(0, q{
	CREATE TABLE later (tenant int NOT NULL, id int NOT NULL, phone text, PRIMARY KEY (tenant, id));
	SELECT retention.tag('later', 'phone', 'phone');
	SELECT create_distributed_table('later', 'tenant', shard_count => 4);
});
is($c->on_every_node(sprintf($label, 'later', 'later', 'phone')), 'phone|phone|phone', 'a table tagged before it was distributed');
$c->psql(0, q{SELECT retention.untag('later', 'phone')});
is($c->on_every_node(sprintf($label, 'later', 'later', 'phone')), 'none|none|none', 'and untagged after');

done_testing();
