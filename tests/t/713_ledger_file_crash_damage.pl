# The ledger file when things go wrong.
#  - A crash between an erasure's lines (written before its commit) and the
#    line that confirms the commit: a restore made meanwhile replays the
#    erasure and says it was unconfirmed; the original, started again, settles
#    the line from its own database (the commit had reached the WAL).
#  - A damaged ledger file: the worker and CALL retention.run() warn, naming
#    the file and the line, and go on; retention.ledger_entries() refuses.
#  - A ledger file removed after this database wrote to it: a warning too.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use RestoreTest;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $ledger = "$dir/retention.ledger";
my $node = restore_node('original', $dir);
setup_shop($node, 'shop', $dir, 20);
my $q = sub { $node->safe_psql('shop', shift) };
for (my $i = 0; $i < 300 && !-e $ledger; $i++) { sleep 0.1; }
ok(-e $ledger, 'the worker created the ledger file');
$node->backup('before');
# transactions after the backup: the restored server has not given out the erasure's xid
$q->('SELECT txid_current()') for 1 .. 30;

# an erasure whose commit waits for a synchronous standby that never comes
$node->append_conf('postgresql.conf', "retention.enabled = off\nsynchronous_standby_names = 'nobody'\n");
$node->reload;
$node->poll_query_until('postgres', q{SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_retention worker'})
  or die 'the worker did not leave';
my $erasing = $node->background_psql('shop', on_error_stop => 0);
$erasing->query_until(qr/started/, "\\echo started\nSELECT count(*) FROM retention.erase_subject('customer', '1');\n");
$node->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep'})
  or die 'the erasure does not wait for the standby';
is($q->(q{SELECT string_agg(outcome, ',') FROM retention.ledger_entries() WHERE type = 'erasure'}), 'unconfirmed',
	'its lines are in the file, unconfirmed');
$node->stop('immediate');
eval { $erasing->quit };

# 1. a restore of the backup while the original is down
my $restored = PostgreSQL::Test::Cluster->new('restored');
$restored->init_from_backup($node, 'before');
$restored->append_conf('postgresql.conf', "synchronous_standby_names = ''\nretention.enabled = on\n");
$restored->start;
ok(defined poll_until($restored, 'shop', q{SELECT count(*) FROM customer WHERE id = 1}, '0', 30),
	'the restored copy replays the unconfirmed erasure');
is($restored->safe_psql('shop', q{SELECT jsonb_array_length(details->'erasure_ids') || '/' || jsonb_array_length(details->'unconfirmed')
	FROM retention.audit WHERE event = 'erasures_restored'}), '1/1', 'the audit names it as unconfirmed');
is(count_in_log($restored, qr/1 erasure whose commit the ledger file does not confirm is replayed/), 1,
	'and the log says so');
$restored->stop;

# 2. the original comes back: the commit had reached its WAL, and its worker says so in the file
$node->append_conf('postgresql.conf', "synchronous_standby_names = ''\nretention.enabled = on\n");
$node->start;
is($q->(q{SELECT count(*) FROM customer WHERE id = 1}), '0', 'the erasure committed in the original');
# (the restored copy appended the line of its replay after it, under a ledger of its own)
ok(defined poll_until($node, 'shop', q{SELECT outcome FROM retention.ledger_entries() WHERE type = 'erasure' ORDER BY line LIMIT 1},
	'committed', 30), 'its worker settles the line as committed');
is($q->(q{SELECT count(DISTINCT ledger) FROM retention.ledger_entries() WHERE type = 'erasure'}), '2',
	'the copy recorded its replay under its own ledger');
is(count_in_log($node, qr/left unconfirmed by a crash, settled as committed/), 1, 'and logs it');
is($q->(q{SELECT count(*) FROM retention.restores}), '0', 'the original is no restore');

# 3. a damaged line: warnings that name the file and the line; the worker goes on
my $saved = slurp_file($ledger);
my @lines = split /\n/, $saved, -1;
$lines[2] =~ s/"customer"/"kustomer"/;
open(my $fh, '>', $ledger) or die $!;
print $fh join("\n", @lines);
close $fh;
ok(defined poll_until($node, 'shop',
	qq{SELECT count(*) > 0 FROM pg_catalog.regexp_split_to_table(pg_read_file('} . $node->logfile . qq{'), E'\\n') l
	   WHERE l ~ 'WARNING:  ledger file ".*retention.ledger" is damaged at line 3'}, 't', 30),
	'the worker warns, naming the file and the line');
my ($ret, $out, $err) = $node->psql('shop', 'CALL retention.run()');
is($ret, 0, 'CALL retention.run() goes on');
like($err, qr/WARNING:  ledger file ".*retention\.ledger" is damaged at line 3: the line does not match its checksum/,
	'with the same warning');
($ret, $out, $err) = $node->psql('shop', 'SELECT count(*) FROM retention.ledger_entries()');
like($err, qr/ERROR:  ledger file ".*retention\.ledger" is damaged at line 3/, 'retention.ledger_entries() refuses');
$q->(q{SELECT retention.alter_policy(policy_id, enabled => true) FROM retention.policies});
ok(defined poll_until($node, 'shop', q{SELECT count(*) FROM visits}, '0', 30), 'the policies still run');
my $warnings = count_in_log($node, qr/\[\d+\] WARNING:  ledger file .* is damaged at line 3/);
sleep 3;
is(count_in_log($node, qr/\[\d+\] WARNING:  ledger file .* is damaged at line 3/), $warnings,
	'the worker warns once, not every pass');

# 4. the file removed: warnings and a refused erasure, all naming it
unlink $ledger;
($ret, $out, $err) = $node->psql('shop', 'CALL retention.run()');
like($err, qr/WARNING:  could not access ledger file ".*retention\.ledger": No such file or directory/,
	'a missing file is a warning for a run');
($ret, $out, $err) = $node->psql('shop', q{SELECT count(*) FROM retention.erase_subject('customer', '2')});
like($err, qr/ERROR:  ledger file ".*retention\.ledger" is missing\nDETAIL:  This database has recorded erasures in it/,
	'and an error for an erasure');
is($q->(q{SELECT count(*) FROM customer WHERE id = 2}), '1', 'which changed nothing');
open($fh, '>', $ledger) or die $!;
print $fh $saved;
close $fh;
chmod 0600, $ledger;
is($q->(q{SELECT count(*) FROM retention.erase_subject('customer', '2')}), '2', 'with the file back, erasures go on');

$node->stop;
done_testing();
