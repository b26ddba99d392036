# A logical subscriber holds the publisher's rows after every way pg_retention removes
# or masks data, and a CDC consumer reading the publisher's WAL with test_decoding gets
# one message (prefix retention) in the transaction of each purge batch, partition
# removed whole and erasure: a delete policy by rows; partitions removed whole from a
# partitioned table published as itself (TRUNCATE first, with the concurrent detach and
# with the plain one) and through its root (by rows); an anonymize policy; an erasure
# across a subject graph, a pending erasure carried out at the release of its hold, a
# replay.  A published table without a replica identity refuses every row, and the run
# and the erasure say so; a policy keeping detached partitions of a published table is
# refused.  No message names a subject by its id.
use strict;
use warnings;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $pub = PostgreSQL::Test::Cluster->new('publisher');
$pub->init(allows_streaming => 'logical');
$pub->append_conf('postgresql.conf',
	"timezone = 'UTC'\nlog_timezone = 'UTC'\nretention.key_file = '$dir/retention.key'\n");
$pub->start;
my $sub = new_cluster('subscriber');

my $schema = q{
	CREATE SCHEMA app;
	CREATE SCHEMA arc;
	CREATE TABLE app.events (id bigint PRIMARY KEY, at timestamptz NOT NULL, payload text);
	CREATE TABLE app.visits (id bigint PRIMARY KEY, at timestamptz NOT NULL, ip inet NOT NULL);
	CREATE TABLE app.nokey (id int, at timestamptz NOT NULL);
	CREATE TABLE app.logs (id bigint, at timestamptz NOT NULL, line text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
	CREATE TABLE arc.logs (id bigint, at timestamptz NOT NULL, line text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
	CREATE TABLE app.logs_2024_01 PARTITION OF app.logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
	CREATE TABLE app.logs_2024_02 PARTITION OF app.logs FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
	CREATE TABLE app.logs_2024_03 PARTITION OF app.logs FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
	CREATE TABLE arc.logs_2024_01 PARTITION OF arc.logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
	CREATE TABLE arc.logs_2024_02 PARTITION OF arc.logs FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
	CREATE TABLE arc.logs_2024_03 PARTITION OF arc.logs FOR VALUES FROM ('2024-03-01') TO ('2024-04-01');
	CREATE TABLE app.customers (customer_id text PRIMARY KEY, name text NOT NULL, email text);
	CREATE TABLE app.orders (order_id bigint PRIMARY KEY, customer_id text NOT NULL REFERENCES app.customers,
	                         placed_at timestamptz NOT NULL, address text);
	CREATE TABLE app.payments (payment_id bigint PRIMARY KEY, order_id bigint REFERENCES app.orders,
	                           customer_id text REFERENCES app.customers, paid_at timestamptz NOT NULL, card text);
	CREATE TABLE app.notes (customer_id text NOT NULL REFERENCES app.customers, note text);
};
my $customers = q{
	INSERT INTO app.customers SELECT c, 'Name of ' || c, lower(c) || '@example.org'
	  FROM unnest(ARRAY['cust-4711-A', 'cust-4712-B', 'cust-4713-C', 'cust-9000-Z']) c;
	INSERT INTO app.orders SELECT 100 * i + o, c, '2024-02-01'::timestamptz + o * interval '1 day', 'Street ' || o
	  FROM unnest(ARRAY['cust-4711-A', 'cust-4712-B', 'cust-4713-C', 'cust-9000-Z']) WITH ORDINALITY AS x(c, i),
	       generate_series(1, 3) o;
	INSERT INTO app.payments SELECT order_id, order_id, customer_id, placed_at, '4111 1111 1111 ' || (1000 + order_id)
	  FROM app.orders;
	INSERT INTO app.notes SELECT customer_id, 'called back' FROM app.customers;
};
my $subjects = q{
	SELECT retention.tag('app.customers', 'name', 'name');
	SELECT retention.tag('app.customers', 'email', 'email');
	SELECT retention.tag('app.orders', 'address', 'address');
	SELECT retention.tag('app.payments', 'card', 'payment_card');
	SELECT retention.tag('app.payments', 'order_id', 'other', 'null');
	SELECT retention.tag('app.payments', 'customer_id', 'other', 'null');
	SELECT retention.add_policy('app.payments', '7 years', 'paid_at', 'anonymize', basis => 'tax records');
	SELECT retention.add_subject('customer', 'app.customers', 'customer_id');
};

$sub->safe_psql('postgres', 'CREATE DATABASE shop');
$sub->safe_psql('shop', $schema);
$pub->safe_psql('postgres', 'CREATE DATABASE shop');
my $q = sub { $pub->safe_psql('shop', shift) };
$q->($schema);
$q->(q{
	INSERT INTO app.events SELECT g, '2024-01-01'::timestamptz + g * interval '1 hour', 'event ' || g
	  FROM generate_series(1, 3000) g;
	INSERT INTO app.visits SELECT g, '2024-01-01'::timestamptz + g * interval '2 hours',
	       ('10.1.' || (g / 250) || '.' || (g % 250 + 1))::inet FROM generate_series(1, 1000) g;
	INSERT INTO app.nokey SELECT g, '2024-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 10) g;
	INSERT INTO app.logs SELECT g, '2024-01-01'::timestamptz + g * interval '30 minutes', 'line ' || g
	  FROM generate_series(1, 4000) g;
	INSERT INTO arc.logs SELECT id, at, line FROM app.logs;
});
$q->($customers);
$q->(q{
	CREATE EXTENSION pg_retention;
	SELECT retention.create_key();
	CREATE PUBLICATION pub_app FOR TABLES IN SCHEMA app;
	CREATE PUBLICATION pub_arc FOR TABLE arc.logs WITH (publish_via_partition_root = true);
	SELECT pg_create_logical_replication_slot('cdc', 'test_decoding');
});
$q->($subjects);
$sub->safe_psql('shop', "CREATE SUBSCRIPTION sub CONNECTION '" . $pub->connstr . ' dbname=shop'
	  . "' PUBLICATION pub_app, pub_arc");
$sub->poll_query_until('shop', q{SELECT count(*) = 0 FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')})
  or BAIL_OUT('the subscription did not synchronize');
$pub->wait_for_catchup('sub');

# Compares a table on both sides after the subscriber has caught up.
sub same
{
	my ($table, $what) = @_;
	$pub->wait_for_catchup('sub');
	my $sql = "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM $table t";
	is($sub->safe_psql('shop', $sql), $pub->safe_psql('shop', $sql),
		"$what: the subscriber holds the publisher's rows of $table");
	return;
}

# Reads what test_decoding decoded since the last call: the transactions, each with its
# change lines and its retention messages (decoded JSON), and the raw messages.
my @all_messages;
sub decoded
{
	my @txns;
	my $cur;
	for my $line (split /\n/, $q->(q{SELECT data FROM pg_logical_slot_get_changes('cdc', NULL, NULL,
	                                     'include-xids', '1', 'skip-empty-xacts', '1')}))
	{
		if ($line =~ /^BEGIN (\d+)$/) { $cur = { xid => $1, changes => [], messages => [] }; }
		elsif ($line =~ /^COMMIT \d+$/) { push @txns, $cur; undef $cur; }
		elsif ($line =~ /^message: transactional: (\d) prefix: ([^,]*), sz: \d+ content:(.*)$/)
		{
			die "a message outside a transaction: $line" unless $1 eq '1' && $cur;
			push @all_messages, $3;
			push @{ $cur->{messages} }, decode_json($3) if $2 eq 'retention';
		}
		else { push @{ $cur->{changes} }, $line; }
	}
	return @txns;
}

# Counts the change lines of a transaction that match a pattern.
sub changes
{
	my ($txn, $re) = @_;
	return scalar grep { /$re/ } @{ $txn->{changes} };
}

# Sums a field over messages.
sub total
{
	my ($field, @m) = @_;
	my $n = 0;
	$n += $_->{$field} for @m;
	return $n;
}

decoded();    # the setup
my $as_of = "'2024-03-15 00:00+00'";

# 1. a delete policy, by rows: one message per batch, in the batch's transaction
my $events_pid = $q->(q{SELECT retention.add_policy('app.events', '30 days', 'at', batch_size => 500)});
my $expired = $q->(q{SELECT count(*) FROM app.events WHERE at < '2024-02-14 00:00+00'});
is($expired, 1055, '1055 events are older than the cutoff');
$q->("CALL retention.run('app.events', $as_of)");
my $run = $q->(q{SELECT run_id FROM retention.runs WHERE tbl = 'app.events'});
is($q->("SELECT rows || '/' || batches || '/' || status FROM retention.runs WHERE run_id = $run"),
	'1055/3/success', 'the run deleted them in three batches');
same('app.events', 'delete by rows');
my @txns = grep { changes($_, qr/^table app\.events: DELETE:/) } decoded();
is(scalar @txns, 3, 'the deletes came in three transactions');
is(join(',', map { scalar @{ $_->{messages} } } @txns), '1,1,1', 'each with exactly one retention message');
is(join(',', map { my $m = $_->{messages}[0]; "$m->{batch}:$m->{rows}:" . changes($_, qr/^table app\.events: DELETE:/) } @txns),
	'1:500:500,2:500:500,3:55:55', 'each message counts the deletes of its own transaction');
my $m = $txns[0]{messages}[0];
is(join('|', map { "$_=" . ($m->{$_} // 'null') } qw(version reason action policy_id run_id table relation cutoff)),
	"version=1|reason=retention|action=delete|policy_id=$events_pid|run_id=$run|table=app.events|relation=app.events|cutoff=2024-02-14T00:00:00+00:00",
	'the message names the policy, the run, the table and the cutoff');

# 2. partitions of a table published as itself: emptied by TRUNCATE (which subscribers
# receive), then detached CONCURRENTLY and dropped; the rest by rows
my $logs_pid = $q->(q{SELECT retention.add_policy('app.logs', '30 days', 'at')});
my $jan = $q->('SELECT count(*) FROM app.logs_2024_01');
is($jan, 1487, 'January holds 1487 log lines');
my ($ret, $out, $err) = $pub->psql('shop', "CALL retention.run('app.logs', $as_of)");
is($ret, 0, 'the run on app.logs succeeds');
like($err, qr/retention policy $logs_pid on app\.logs: 2111 rows deleted \(1 partition removed whole\)/,
	'it removed January whole and 624 February lines by rows');
is($q->(q{SELECT count(*) FROM pg_class WHERE oid = to_regclass('app.logs_2024_01')}), 0,
	'January is dropped on the publisher');
same('app.logs', 'a partition removed whole (published as itself)');
is($sub->safe_psql('shop', 'SELECT count(*) FROM app.logs_2024_01'), 0,
	'the subscriber keeps its January partition (no DDL is replicated), empty');
@txns = decoded();
my ($trunc) = grep { changes($_, qr/^table app\.logs_2024_01: TRUNCATE:/) } @txns;
ok($trunc, 'the TRUNCATE of January is in the decoded stream');
is(join('|', map { "$_->{action}:$_->{relation}:$_->{rows}:" . ($_->{batch} // 'null') } @{ $trunc->{messages} }),
	"truncate:app.logs_2024_01:$jan:null", 'its transaction has one message: truncate, the partition, its rows');
my @feb = grep { changes($_, qr/^table app\.logs_2024_02: DELETE:/) } @txns;
is(join(',', map { my $t = $_; join('+', map { "$_->{action}:$_->{relation}:$_->{rows}" } @{ $t->{messages} }) . '=' . changes($t, qr/^table app\.logs_2024_02: DELETE:/) } @feb),
	'delete:app.logs_2024_02:624=624', 'the February batch has its message');
is($q->(q{SELECT rows || '/' || (details->>'truncated') FROM retention.audit WHERE event = 'partition_dropped'}),
	"$jan/true", 'the audit trail records the partition dropped, truncated first, with its rows');

# ... and inside a transaction block: TRUNCATE, DETACH and DROP in the one transaction
$q->(q{BEGIN; CALL retention.run('app.logs', '2024-04-15 00:00+00'); COMMIT;});
is($q->(q{SELECT count(*) FROM pg_class WHERE oid = to_regclass('app.logs_2024_02')}), 0,
	'February is dropped too');
same('app.logs', 'a partition removed whole inside a transaction block');
@txns = grep { @{ $_->{messages} } } decoded();
is(scalar @txns, 1, 'one transaction');
is(join(',', map { "$_->{action}:$_->{relation}:$_->{rows}" } @{ $txns[0]{messages} }),
	'truncate:app.logs_2024_02:768,delete:app.logs_2024_03:720',
	'with the TRUNCATE of February and the March batch, each with its message');
is(changes($txns[0], qr/^table app\.logs_2024_02: TRUNCATE:/) . '/' . changes($txns[0], qr/^table app\.logs_2024_03: DELETE:/),
	'1/720', 'and their changes');

# 3. partitions of a table published through its root: a TRUNCATE of a partition would
# not be sent, so they go by rows
my $arc_pid = $q->(q{SELECT retention.add_policy('arc.logs', '30 days', 'at')});
($ret, $out, $err) = $pub->psql('shop', "CALL retention.run('arc.logs', $as_of)");
like($err, qr/partition arc\.logs_2024_01 lies wholly before the cutoff but went by rows: publication pub_arc publishes it through its partitioned table \(publish_via_partition_root\)/,
	'the run says why January goes by rows');
is($q->(q{SELECT rows || '/' || partitions || '/' || status FROM retention.runs WHERE tbl = 'arc.logs'}),
	'2111/0/success', 'all 2111 expired lines deleted, no partition removed whole');
is($q->('SELECT count(*) FROM arc.logs_2024_01'), 0, 'January stays attached, empty');
same('arc.logs', 'a partitioned table published through its root');
@txns = grep { @{ $_->{messages} } } decoded();
is(join(',', map { my $t = $_; my $mm = $t->{messages}[0];
	"$mm->{action}:$mm->{relation}:$mm->{rows}=" . changes($t, qr/^table \Q$mm->{relation}\E: DELETE:/) } @txns),
	'delete:arc.logs_2024_01:1487=1487,delete:arc.logs_2024_02:624=624',
	'one message per batch, naming the partition, counting its transaction\'s deletes');

# the subscriber would have kept January for ever with DETACH and DROP: the old way, by hand
is($sub->safe_psql('shop', q{SELECT count(*) FROM arc.logs WHERE at < '2024-02-01'}), 0,
	'the subscriber has no January line left');

# 4. an anonymize policy: UPDATEs, each batch with its message
$q->(q{SELECT retention.tag('app.visits', 'ip', 'ip_address')});
my $visits_pid = $q->(q{SELECT retention.add_policy('app.visits', '30 days', 'at', 'anonymize', batch_size => 400)});
$q->("CALL retention.run('app.visits', $as_of)");
is($q->(q{SELECT rows || '/' || status FROM retention.runs WHERE tbl = 'app.visits'}), '527/success',
	'527 visits anonymized');
same('app.visits', 'anonymize');
is($sub->safe_psql('shop', q{SELECT count(*) FROM app.visits WHERE masklen(ip) = 24}), 527,
	'the subscriber has the masked addresses');
@txns = grep { @{ $_->{messages} } } decoded();
is(join(',', map { my $mm = $_->{messages}[0];
	"$mm->{action}:$mm->{policy_id}:$mm->{rows}=" . changes($_, qr/^table app\.visits: UPDATE:/) } @txns),
	"anonymize:$visits_pid:400=400,anonymize:$visits_pid:127=127", 'one message per batch, counting its updates');

# 5. a published table without a replica identity: PostgreSQL refuses every DELETE
my $nokey_pid = $q->(q{SELECT retention.add_policy('app.nokey', '30 days', 'at')});
($ret, $out, $err) = $pub->psql('shop', "CALL retention.run('app.nokey', $as_of)");
isnt($ret, 0, 'the run on a published table without a replica identity fails');
like($err, qr/ERROR:  retention policy $nokey_pid on app\.nokey failed: 10 expired rows could not be deleted and were left; the first was refused by PostgreSQL: publication pub_app publishes the deletes of app\.nokey, which has no replica identity/,
	'and says why: every row refused, naming the publication');
is($q->(q{SELECT rows || '/' || refused || '/' || status FROM retention.runs WHERE tbl = 'app.nokey'}),
	'0/10/failed', 'the run record: 10 refused, failed');
is($q->('SELECT count(*) FROM app.nokey'), 10, 'nothing was deleted');
is(scalar(grep { @{ $_->{messages} } } decoded()), 0, 'and no message written');

# 6. a policy keeping detached partitions of a published table is refused, and a run
# after its table joined a publication fails before it changes anything
($ret, $out, $err) = $pub->psql('shop', q{SELECT retention.add_policy('arc.logs', '60 days', 'at', partition_action => 'detach')});
like($err, qr/ERROR:  a policy on arc\.logs cannot keep the partitions it removes detached: publication pub_arc publishes arc\.logs/,
	'add_policy refuses partition_action detach on a published table');
$q->(q{
	CREATE SCHEMA late;
	CREATE TABLE late.logs (id bigint, at timestamptz NOT NULL) PARTITION BY RANGE (at);
	CREATE TABLE late.logs_2024_01 PARTITION OF late.logs FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
	INSERT INTO late.logs SELECT g, '2024-01-01'::timestamptz + g * interval '1 hour' FROM generate_series(1, 100) g;
});
my $late_pid = $q->(q{SELECT retention.add_policy('late.logs', '30 days', 'at', partition_action => 'detach')});
$q->('CREATE PUBLICATION pub_late FOR TABLE late.logs');
($ret, $out, $err) = $pub->psql('shop', "CALL retention.run('late.logs', $as_of)");
like($err, qr/retention policy $late_pid on late\.logs keeps the partitions it removes detached, but publication pub_late publishes partition late\.logs_2024_01/,
	'the run after the table joined a publication fails, naming it');
is($q->(q{SELECT status || '/' || rows FROM retention.runs WHERE tbl = 'late.logs'}), 'failed/0',
	'recorded as failed');
is($q->('SELECT count(*) FROM late.logs_2024_01'), 100, 'the partition is still attached with its rows');
decoded();

# 7. an erasure across the subject graph: a graph table without a replica identity first
($ret, $out, $err) = $pub->psql('shop', q{SELECT * FROM retention.erase_subject('customer', 'cust-4711-A')});
like($err, qr/ERROR:  erasure of a data subject of kind "customer" cannot delete from table app\.notes: publication pub_app publishes its deletes and it has no replica identity/,
	'the erasure names the table without a replica identity and the publication');
is($q->(q{SELECT count(*) FROM app.customers WHERE customer_id = 'cust-4711-A'}) . '/'
	  . $q->('SELECT count(*) FROM retention.erasures'), '1/0', 'nothing was erased or recorded');
$q->('ALTER TABLE app.notes REPLICA IDENTITY FULL');
is($q->(q{SELECT string_agg(tbl::text || ':' || action || ':' || rows, ',' ORDER BY tbl::text, action)
           FROM retention.erase_subject('customer', 'cust-4711-A')}),
	'app.customers:delete:1,app.notes:delete:1,app.orders:delete:3,app.payments:anonymize:3',
	'with REPLICA IDENTITY FULL the erasure goes through');
for my $t (qw(app.customers app.orders app.payments app.notes)) { same($t, 'erasure'); }
is($sub->safe_psql('shop', q{SELECT count(*) FROM app.payments WHERE customer_id IS NULL AND card LIKE '%1101'}), 1,
	'the subscriber has the payments anonymized');
@txns = grep { @{ $_->{messages} } } decoded();
is(scalar @txns, 1, 'one transaction with a retention message');
$m = $txns[0]{messages}[0];
my ($erasure_id, $token) = split /\|/,
  $q->(q{SELECT details->>'erasure_id', details->>'subject' FROM retention.audit WHERE event = 'erasure'});
like($token, qr/^[0-9a-f]{64}$/, 'the audit names the subject by its token');
is(join('|', map { "$_=" . (ref $m->{$_} ? join(',', @{ $m->{$_} }) : $m->{$_}) } qw(version reason action kind erasure_ids subjects rows)),
	"version=1|reason=erasure|action=erase|kind=customer|erasure_ids=$erasure_id|subjects=$token|rows=8",
	'the message: the erasure, the kind, the ledger id and the token, never the id');
is(changes($txns[0], qr/^table app\.(customers|orders|notes): DELETE:/) + changes($txns[0], qr/^table app\.payments: UPDATE:/),
	8, 'in the transaction of its 5 deletes and 3 updates');
is(join(',', map { "$_->{table}:$_->{action}:$_->{rows}" } sort { $a->{table} cmp $b->{table} } @{ $m->{steps} }),
	'app.customers:delete:1,app.notes:delete:1,app.orders:delete:3,app.payments:anonymize:3', 'and its steps');

# 8. a pending erasure: no message while held; carried out at the release, with its message
my $hold = $q->(q{SELECT retention.hold('customer', 'cust-4713-C', 'court order 17')});
$q->(q{SELECT * FROM retention.erase_subject('customer', 'cust-4713-C')});
is(scalar(grep { @{ $_->{messages} } } decoded()), 0, 'a pending erasure writes no message');
$q->("SELECT retention.release($hold)");
is($q->(q{SELECT count(*) FROM app.customers WHERE customer_id = 'cust-4713-C'}), 0, 'the release erases the customer');
same('app.customers', 'a pending erasure carried out');
same('app.payments', 'a pending erasure carried out');
@txns = grep { @{ $_->{messages} } } decoded();
is(join(',', map { "$_->{reason}:$_->{kind}:$_->{rows}" } map { @{ $_->{messages} } } @txns), 'erasure:customer:8',
	'the release\'s transaction has the erasure\'s message');

# 9. a replay: the erasure was made in a newer copy of the database, this one lacks it
$pub->safe_psql('postgres', 'CREATE DATABASE newer');
$pub->safe_psql('newer', $schema . $customers . 'CREATE EXTENSION pg_retention;' . $subjects);
$pub->safe_psql('newer', q{SELECT * FROM retention.erase_subject('customer', 'cust-4712-B')});
my $ledger = $pub->safe_psql('newer', 'SELECT retention.export_erasures()');
$q->("SELECT retention.import_erasures('$ledger'::jsonb)");
is($q->(q{SELECT string_agg(result, ',') FROM retention.replay_erasures()}), 'erased', 'the replay erases customer B');
same('app.customers', 'replay');
same('app.orders', 'replay');
@txns = grep { @{ $_->{messages} } } decoded();
$m = $txns[0]{messages}[0];
is(join('|', scalar(@txns), $m->{reason}, $m->{kind}, join(',', @{ $m->{erasure_ids} }), $m->{rows}),
	join('|', 1, 'replay', 'customer', $pub->safe_psql('newer', 'SELECT erasure_id FROM retention.erasures'), 8),
	'one message: reason replay, the imported erasure\'s id');
is(changes($txns[0], qr/^table app\.(customers|orders|notes): DELETE:/), 5, 'in the transaction of the replay\'s deletes');

# 10. no message names a subject by its id (the change stream itself does: a DELETE's old key)
my @raw = grep { /cust-47/ } @all_messages;
is(scalar @raw, 0, 'no message, of ' . scalar(@all_messages) . ', holds a raw subject id');
$pub->safe_psql('shop', q{DELETE FROM app.notes WHERE customer_id = 'cust-9000-Z'});
like($q->(q{SELECT string_agg(data, ' ') FROM pg_logical_slot_get_changes('cdc', NULL, NULL)}), qr/cust-9000-Z/,
	'while the decoded changes would show one');

# 11. retention.cdc_messages: off for a superuser's session, and not for a table owner to turn off
$q->(q{SET retention.cdc_messages = off; CALL retention.run('app.events', '2024-03-20 00:00+00')});
is($q->(q{SELECT rows FROM retention.runs WHERE tbl = 'app.events' ORDER BY run_id DESC LIMIT 1}), 120,
	'a run with the setting off deletes');
@txns = decoded();
is(scalar(grep { changes($_, qr/^table app\.events: DELETE:/) } @txns) . '/' . scalar(grep { @{ $_->{messages} } } @txns),
	'1/0', 'and writes no message');
$q->('CREATE ROLE app_owner');
($ret, $out, $err) = $pub->psql('shop', q{SELECT retention.library_version(); SET ROLE app_owner; SET retention.cdc_messages = off});
like($err, qr/permission denied to set parameter "retention\.cdc_messages"/, 'only a superuser may turn the messages off');
same('app.events', 'the end');

done_testing();
