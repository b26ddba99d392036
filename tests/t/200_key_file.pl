# The pseudonymization key file: known answers, the same pseudonyms across
# sessions and restarts, different keys and contexts, create_key(), rotation
# by replacing the file, every error path with its SQLSTATE, and no trace of
# any key in the server log (log_statement = 'all'), pg_settings, the audit
# trail or a dump.  Every key file is written by this test; none is committed.
use strict;
use warnings;
use Fcntl qw(:mode);
use PostgreSQL::Test::Utils;
use Test::More;
use RetentionTest;

my $node = new_cluster('key_file', "log_statement = 'all'", 'log_error_verbosity = verbose',
	'log_min_messages = debug1');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_retention');
my $dir = PostgreSQL::Test::Utils::tempdir;
my $q = sub { $node->safe_psql('postgres', shift) };
my ($ret, $out, $err);

# Writes a key file with the given content and mode.
sub write_file
{
	my ($path, $content, $mode) = @_;
	open my $fh, '>', $path or die "could not write $path: $!";
	print $fh $content;
	close $fh;
	chmod($mode // 0600, $path) or die "could not chmod $path: $!";
	return;
}

# Returns the SQLSTATE of the error a statement raises, or OK.
sub sqlstate
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\n$sql");
	return 'OK' if $ret == 0;
	return $err =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : "no SQLSTATE in: $err";
}

# Points retention.key_file at a file for every session, as an administrator would.
sub use_key
{
	my ($path) = @_;
	# ALTER SYSTEM knows the setting once the library is loaded in the session
	$q->("LOAD 'pg_retention'; ALTER SYSTEM SET retention.key_file = '$path'");
	$node->reload;
	$node->poll_query_until('postgres', "SELECT current_setting('retention.key_file') = '$path'")
	  or die "retention.key_file did not become $path";
	return;
}

# A known test key (bytes 00..1f): answers computed independently with Python's
# hashlib.blake2b from the algorithm in docs/reference.md.
my $known_hex = join '', map { sprintf '%02x', $_ } 0 .. 31;
write_file("$dir/known.key", "$known_hex\n");
use_key("$dir/known.key");
is($q->('SELECT retention.key_fingerprint()'), 'b02d8f2885fe2a16', 'fingerprint of the known key');
is($q->("SELECT retention.pseudonym('alice\@example.com')"), 'ps:67fad918970bd46cc0e7b3fc',
	'known answer in the default context');
is($q->("SELECT retention.pseudonym('alice\@example.com', 'email')"), 'ps:2c1d32249fba6840a43784de',
	'known answer in context email');
is($q->("SELECT retention.pseudonym('')"), 'ps:43b21f48d7e4196bc56da201', 'known answer for the empty string');
is($q->("SELECT retention.pseudonym('张伟')"), 'ps:c3f615c394371183e9ad30b1', 'known answer for a multi-byte value');
is($q->("SELECT retention.pseudonym(retention.pseudonym('alice\@example.com'))"), 'ps:67fad918970bd46cc0e7b3fc',
	'a pseudonym of a pseudonym is the pseudonym');
is($q->("SELECT count(DISTINCT retention.pseudonym('alice\@example.com', c))
           FROM unnest(ARRAY['', 'email', 'crm', 'Email', 'email ']) AS c"), 5, 'different contexts give different pseudonyms');

# the same across sessions and restarts; distinct values stay distinct
$q->("CREATE TABLE people AS SELECT i, 'person' || i || '\@example.com' AS email FROM generate_series(1, 100000) i");
$q->('CREATE TABLE first_session AS SELECT i, retention.pseudonym(email) AS ps FROM people');
is($q->('SELECT count(DISTINCT ps) FROM first_session'), 100000, '100000 distinct values give 100000 distinct pseudonyms');
is($q->('SELECT count(*) FROM first_session f JOIN people p USING (i) WHERE f.ps = retention.pseudonym(p.email)'),
	100000, 'another session computes the same pseudonyms');
$node->restart;
is($q->('SELECT count(*) FROM first_session f JOIN people p USING (i) WHERE f.ps = retention.pseudonym(p.email)'),
	100000, 'the same pseudonyms after a restart');
is($q->('SELECT retention.key_fingerprint()'), 'b02d8f2885fe2a16', 'the same fingerprint after a restart');

# create_key(): a new random key, mode 0600, never overwriting
my $other_fp = $q->("SELECT retention.create_key('$dir/other.key')");
like($other_fp, qr/^[0-9a-f]{16}$/, 'create_key returns a fingerprint');
my $mode = (stat("$dir/other.key"))[2];
is(S_IMODE($mode), 0600, 'the new key file is readable by its owner only');
my $other_hex = slurp_file("$dir/other.key");
like($other_hex, qr/^[0-9a-f]{64}\n\z/, 'the key file holds 64 hexadecimal digits and a newline');
chomp $other_hex;
is(sqlstate("SELECT retention.create_key('$dir/other.key')"), '58P02', 'an existing key file is never overwritten');
is(slurp_file("$dir/other.key"), "$other_hex\n", 'the refused call left the file as it was');
like($q->("SELECT details::text FROM retention.audit WHERE event = 'key_created'"),
	qr/"fingerprint": "$other_fp"/, 'the audit trail records the new key by its fingerprint');

# a different key gives different pseudonyms
use_key("$dir/other.key");
is($q->('SELECT retention.key_fingerprint()'), $other_fp, 'key_fingerprint names the key in use');
is($q->('SELECT count(*) FROM first_session f JOIN people p USING (i) WHERE f.ps = retention.pseudonym(p.email)'),
	0, 'with another key file every pseudonym differs');
is($q->('SELECT count(*) FROM people WHERE retention.is_pseudonym(retention.pseudonym(email))'), 100000,
	'and still has the form of a pseudonym');

# create_key() without a path writes the file retention.key_file names
use_key("$dir/fresh.key");
is(sqlstate("SELECT retention.pseudonym('x')"), '58P01', 'a key file that does not exist yet: undefined_file');
my $fresh_fp = $q->('SELECT retention.create_key()');
is($q->('SELECT retention.key_fingerprint()'), $fresh_fp, 'create_key() made the configured key file, in use at once');
my $fresh_hex = slurp_file("$dir/fresh.key");
chomp $fresh_hex;

# rotation by replacing the file: a session notices at its next transaction
my $session = $node->background_psql('postgres');
is($session->query_safe('SELECT retention.key_fingerprint()'), $fresh_fp, 'a long session uses the fresh key');
my $before = $session->query_safe("SELECT retention.pseudonym('bob\@example.com')");
my $rotated_hex = join '', map { sprintf '%02x', (31 - $_) * 7 % 256 } 0 .. 31;
write_file("$dir/rotated.tmp", "$rotated_hex\n");
rename("$dir/rotated.tmp", "$dir/fresh.key") or die "rename: $!";
my $rotated_fp = $session->query_safe('SELECT retention.key_fingerprint()');
isnt($rotated_fp, $fresh_fp, 'the same session sees the replaced key file');
isnt($session->query_safe("SELECT retention.pseudonym('bob\@example.com')"), $before,
	'and computes pseudonyms with the new key');
$session->quit;

# a removed key file is an error, never a silent fallback to the key in memory
unlink("$dir/fresh.key") or die "unlink: $!";
is(sqlstate("SELECT retention.pseudonym('x')"), '58P01', 'a removed key file: undefined_file');

# ... also inside a transaction that used the key and then caught the error of
# key_fingerprint(): the next pseudonym fails instead of using a forgotten key
write_file("$dir/vanishing.key", "$known_hex\n");
($ret, $out, $err) = $node->psql('postgres', qq{
SET retention.key_file = '$dir/vanishing.key';
BEGIN;
SELECT retention.pseudonym('alice\@example.com');
\\! rm $dir/vanishing.key
DO \$\$ BEGIN PERFORM retention.key_fingerprint(); EXCEPTION WHEN OTHERS THEN NULL; END \$\$;
SELECT retention.pseudonym('bob\@example.com');
COMMIT;});
is($out, 'ps:67fad918970bd46cc0e7b3fc', 'the key was in use before the file went');
like($err, qr/could not open pseudonymization key file/, 'after the file went, pseudonym() fails');

# every error path has its SQLSTATE
my %bad = (
	'not hexadecimal' => [ ('zz' x 32) . "\n", 0600, 'F0000' ],
	'too short' => [ substr($known_hex, 2) . "\n", 0600, 'F0000' ],
	'a second line' => [ "$known_hex\n$known_hex\n", 0600, 'F0000' ],
	'empty' => [ '', 0600, 'F0000' ],
	'readable by the group' => [ "$known_hex\n", 0640, 'F0000' ],
	'readable by others' => [ "$known_hex\n", 0604, 'F0000' ],
	'unreadable by its owner' => [ "$known_hex\n", 0200, '42501' ],
	'uppercase hexadecimal' => [ uc($known_hex) . "\r\n", 0600, 'OK' ],);
for my $case (sort keys %bad)
{
	my ($content, $perm, $state) = @{ $bad{$case} };
	(my $file = "$dir/bad $case.key") =~ s/ /_/g;
	write_file($file, $content, $perm);
	is(sqlstate("SET retention.key_file = '$file'; SELECT retention.pseudonym('x')"), $state,
		"key file $case: $state");
}
is(sqlstate("SET retention.key_file = ''; SELECT retention.pseudonym('x')"), '55000', 'no key file configured: 55000');
is(sqlstate("SET retention.key_file = '$dir'; SELECT retention.pseudonym('x')"), 'F0000', 'a directory: F0000');
is(sqlstate("SET retention.key_file = '$dir/missing.key'; SELECT retention.key_fingerprint()"), '58P01',
	'key_fingerprint on a missing file: 58P01');
is(sqlstate("SET retention.key_file = '$dir/bad_uppercase_hexadecimal.key'; SELECT retention.key_fingerprint()"),
	'OK', 'uppercase hexadecimal with a CRLF line end is a valid key');
is($q->("SET retention.key_file = '$dir/bad_uppercase_hexadecimal.key'; SELECT retention.key_fingerprint()"),
	'b02d8f2885fe2a16', 'and is the same key as its lowercase form');

# an anonymize run with pseudonyms, logged statement by statement
use_key("$dir/known.key");
$q->(q{CREATE TABLE accounts (id int PRIMARY KEY, name text, email text UNIQUE, closed date);
       INSERT INTO accounts SELECT i, 'Name ' || i, 'user' || i || '@example.com', date '2020-01-01' + i
         FROM generate_series(1, 500) i;
       SELECT retention.tag('accounts', 'name', 'name');
       SELECT retention.tag('accounts', 'email', 'email', 'pseudonym(email)');
       CREATE TABLE expected AS SELECT id, retention.pseudonym(name) AS name,
              retention.pseudonym(email, 'email') AS email FROM accounts WHERE closed < '2020-06-01';});
$q->("SELECT retention.add_policy('accounts', interval '1 year', 'closed', 'anonymize', batch_size => 100)");
($ret, $out, $err) = $node->psql('postgres', "CALL retention.run('accounts', timestamptz '2021-06-01')");
like($err, qr/151 rows anonymized in 2 batches/, 'the run pseudonymizes the 151 expired rows');
is($q->('SELECT count(*) FROM accounts a JOIN expected e USING (id) WHERE a.name = e.name AND a.email = e.email'),
	151, 'each masked value is the pseudonym of the original');
is($q->("SELECT count(*) FROM accounts WHERE closed >= '2020-06-01' AND name LIKE 'Name %'"), 349,
	'rows inside the retention period are untouched');
is($q->(q{SELECT details->>'key_fingerprint' FROM retention.audit WHERE event = 'run' ORDER BY seq DESC LIMIT 1}),
	'b02d8f2885fe2a16', 'the audit entry of the run names the key by its fingerprint');

# no key anywhere: server log (after every path above), settings, audit, dump
my @keys = ($known_hex, $other_hex, $fresh_hex, $rotated_hex);
my $log = slurp_file($node->logfile);
like($log, qr/statement: CALL retention\.run/, 'the log does hold the logged statements');
like($log, qr/pseudonymization key file "[^"]+" is malformed/, 'and the errors of the bad key files');
my $leaks = 0;
for my $hex (@keys)
{
	for (my $i = 0; $i + 16 <= length $hex; $i++)
	{
		my $window = substr($hex, $i, 16);
		$leaks++ if index(lc $log, $window) >= 0;
	}
}
is($leaks, 0, 'no 16-digit stretch of any key appears in the server log');
my $settings = $q->('SELECT string_agg(name || setting, chr(10)) FROM pg_settings');
is(scalar(grep { index($settings, $_) >= 0 } @keys), 0, 'no key in pg_settings');
my $audit = $q->('SELECT string_agg(row(a.*)::text, chr(10)) FROM retention.audit a');
is(scalar(grep { index($audit, $_) >= 0 } @keys), 0, 'no key in the audit trail');
my ($dump) = PostgreSQL::Test::Utils::run_command([ 'pg_dump', '-d', $node->connstr('postgres') ]);
cmp_ok(length $dump, '>', 1000, 'the dump was taken');
is(scalar(grep { index($dump, $_) >= 0 } @keys), 0, 'no key in a dump of the database');

$node->stop;
done_testing();
