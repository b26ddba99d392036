# Faults while the scheduler runs.
#
# A corrupt key file stops pseudonymization with a clear error and nothing
# else: pseudonym() and the anonymize policies that need the key fail with
# SQLSTATE F0000 naming the file (never its content), recorded in their runs,
# in manual runs as in the worker's; delete policies and masks without a key
# keep running, preview, status and the audit work, a legal hold and an access
# request go ahead (their audit entry names no subject, with a WARNING), an
# erasure waits for the key (it fails and changes nothing).  Once the file is
# right again the next runs continue, with the same pseudonyms as before.
#
# A disk that fills up in the middle of a worker's batch (a trigger raising
# 53100): that batch rolls back, the run is recorded as failed, the worker
# retries with its back-off and, once there is room, finishes the work.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use PostgreSQL::Test::Utils;
use Test::More;
use SchedTest;

my $dir = PostgreSQL::Test::Utils::tempdir;
my $key = "$dir/retention.key";
my $node = sched_node('faults', "retention.key_file = '$key'");
$node->safe_psql('postgres', 'CREATE DATABASE app');
my $q = sub { $node->safe_psql('app', shift) };
$q->(q{
	CREATE EXTENSION pg_retention;
	SELECT retention.create_key();
	CREATE TABLE accounts (id int PRIMARY KEY, email text, closed timestamptz);
	CREATE TABLE notes (id int PRIMARY KEY, note text, at timestamptz NOT NULL);
	CREATE TABLE logs (id int PRIMARY KEY, at timestamptz NOT NULL);
	SELECT retention.tag('accounts', 'email', 'email', 'pseudonym');
	SELECT retention.tag('notes', 'note', 'free_text', 'constant(gone)');
	SELECT retention.add_subject('account', 'accounts', 'id');
});
my $good = slurp_file($key);
my $fingerprint = $q->('SELECT retention.key_fingerprint()');
my $expected = $q->(q{SELECT retention.pseudonym('user1@example.com')});

# Adds $n expired rows to each of the three tables, ids from $from.
sub add_rows
{
	my ($from, $n) = @_;
	my $to = $from + $n - 1;
	$q->(qq{
		INSERT INTO accounts SELECT g, 'user' || g || '\@example.com', now() - interval '2 years' FROM generate_series($from, $to) g;
		INSERT INTO notes SELECT g, 'note ' || g, now() - interval '2 years' FROM generate_series($from, $to) g;
		INSERT INTO logs SELECT g, now() - interval '2 years' FROM generate_series($from, $to) g;
	});
	return;
}

# Replaces the key file's content, keeping its mode (0600).
sub write_key
{
	my ($content) = @_;
	open my $fh, '>', "$key.new" or die $!;
	print $fh $content;
	close $fh;
	chmod 0600, "$key.new";
	rename "$key.new", $key or die $!;
	return;
}

# Returns the SQLSTATE and message of the error a statement raises, or OK.
sub fails_with
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('app', "\\set VERBOSITY verbose\n$sql");
	return 'OK' if $ret == 0;
	return $err =~ /ERROR:\s+([0-9A-Z]{5}): ([^\n]*)/ ? "$1 $2" : $err;
}

# the key goes bad while the database is in use
add_rows(1, 20);
write_key(('zz' x 32) . "\n");
my $malformed = qr/^F0000 pseudonymization key file "\Q$key\E" is malformed/;
like(fails_with(q{SELECT retention.pseudonym('x')}), $malformed, 'pseudonym() fails with F0000, naming the file');
like(fails_with(q{SELECT retention.key_fingerprint()}), $malformed, 'key_fingerprint() fails the same way');
# the policies are added in one transaction: the worker's next pass (naptime 1 s) finds all three
$q->(q{
	BEGIN;
	SELECT retention.add_policy('accounts', '1 year', 'closed', 'anonymize');
	SELECT retention.add_policy('notes', '1 year', 'at', 'anonymize');
	SELECT retention.add_policy('logs', '1 year', 'at');
	COMMIT;
});
ok(defined poll_until($node, 'app', q{SELECT count(*) FROM retention.runs WHERE finished_at IS NOT NULL}, '3', 30),
	'the worker ran the three policies');
is($q->(q{SELECT string_agg(p.tbl || ':' || r.status || ':' || r.rows, ',' ORDER BY r.policy_id)
	FROM retention.runs r JOIN retention.policies p USING (policy_id)}),
	'accounts:failed:0,notes:success:20,logs:success:20',
	'the pseudonymizing policy failed; the mask without a key and the delete policy ran');
like($q->(q{SELECT error FROM retention.runs WHERE status = 'failed'}),
	qr/^pseudonymization key file "\Q$key\E" is malformed \(A key file holds 64 hexadecimal digits .*\) \(SQLSTATE F0000\)$/,
	'the run record says why');
is($q->(q{SELECT count(*) FROM accounts WHERE email LIKE 'ps:%'}), '0', 'no account was half anonymized');
# a manual run: the same
add_rows(21, 5);
my ($ret, $out, $err) = $node->psql('app', 'CALL retention.run()');
like($err, qr/ERROR:  retention policy \d+ on public\.accounts failed: pseudonymization key file ".*" is malformed/,
	'a manual run reports the same error');
like($err, qr/on public\.notes: \d+ rows? anonymized[^\n]*undated\n/, 'and runs the other policies');
unlike($err, qr/on public\.(notes|logs) failed/, 'which do not fail');
# nothing else stops
is(fails_with(q{SELECT count(*) FROM retention.preview()}), 'OK', 'preview works');
is(fails_with(q{SELECT count(*) FROM retention.status}), 'OK', 'status works');
is($q->(q{SELECT ok FROM retention.verify_audit()}), 't', 'the audit verifies');
is(fails_with(q{SELECT retention.tag('logs', 'at', 'other', 'generalize(month)')}), 'OK', 'tagging works');
($ret, $out, $err) = $node->psql('app', q{SELECT retention.hold('account', '3', 'court order')});
is($ret, 0, 'a legal hold can be placed');
like($err, qr/WARNING:  the pseudonymization key cannot be used: pseudonymization key file ".*" is malformed/,
	'with a warning that its audit entry names no subject');
($ret, $out, $err) = $node->psql('app', q{SELECT retention.subject_data('account', '4') IS NOT NULL});
is($out, 't', 'an access request is answered');
like(fails_with(q{SELECT * FROM retention.erase_subject('account', '5')}), $malformed,
	'an erasure waits for the key: it fails with F0000');
is($q->(q{SELECT count(*) FROM accounts WHERE id = 5}) . '/' . $q->(q{SELECT count(*) FROM retention.erasures}), '1/0',
	'and changes nothing');

# the key is right again: the runs continue with the same key
write_key($good);
add_rows(26, 5);
ok(defined poll_until($node, 'app', q{SELECT count(*) FROM accounts WHERE email NOT LIKE 'ps:%' AND id <> 3}, '0', 60),
	'the worker anonymizes the accounts once the key is right');
is($q->(q{SELECT email FROM accounts WHERE id = 1}), $expected, 'with the same pseudonyms as before the fault');
is($q->('SELECT retention.key_fingerprint()'), $fingerprint, 'and the same key');
is(fails_with(q{SELECT * FROM retention.erase_subject('account', '5')}), 'OK', 'erasures go through again');

# no key material anywhere in the log, and no crash
my $log = slurp_file($node->logfile);
(my $hex = $good) =~ s/\s+//g;
my $leaks = grep { index(lc $log, substr($hex, $_, 16)) >= 0 } 0 .. length($hex) - 16;
is($leaks, 0, 'no 16-digit stretch of the key in the server log');
unlike($log, qr/PANIC|TRAP/, 'no crash');

# the disk fills up in the middle of a worker's batch
$q->(q{
	CREATE TABLE events (id int PRIMARY KEY, at timestamptz NOT NULL);
	INSERT INTO events SELECT g, now() - interval '2 years' FROM generate_series(1, 500) g;
	CREATE TABLE disk (is_full boolean);
	INSERT INTO disk VALUES (true);
	CREATE FUNCTION fill() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		IF OLD.id = 250 AND (SELECT is_full FROM public.disk) THEN
			RAISE EXCEPTION 'could not extend file "base/1/2": No space left on device' USING ERRCODE = 'disk_full';
		END IF;
		RETURN OLD;
	END $$;
	CREATE TRIGGER fill BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION fill();
	SELECT retention.add_policy('events', '1 year', 'at', batch_size => 100);
});
ok(defined poll_until($node, 'app', q{SELECT count(*) FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'events'::regclass AND r.status = 'failed'}, '1', 30), 'the worker\'s run fails when the disk is full');
is($q->(q{SELECT r.rows || '/' || r.batches || '/' || r.error FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'events'::regclass ORDER BY run_id LIMIT 1}),
	'200/2/could not extend file "base/1/2": No space left on device (SQLSTATE 53100)',
	'the two batches before the fault stay done, the third rolled back whole');
is($q->('SELECT min(id) FROM events'), '201', 'the rows of the failed batch are all still there');
$q->('UPDATE disk SET is_full = false');
ok(defined poll_until($node, 'app', 'SELECT count(*) FROM events', '0', 60), 'with room again the next run finishes');
like($q->(q{SELECT string_agg(r.status, ',' ORDER BY run_id) FROM retention.runs r JOIN retention.policies p USING (policy_id)
	WHERE p.tbl = 'events'::regclass}), qr/^failed(,failed)*,success$/, 'the failures are recorded, then the success');
$node->stop;
done_testing();
