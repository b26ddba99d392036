# retention.key_file naming something that is not a regular file: a FIFO, a
# directory, a socket, a device.  open() of a FIFO waits for a writer, and no
# statement_timeout, cancel or terminate reaches a backend stuck there; before,
# key_fingerprint() (which anyone may call) hung the session for good.  Each
# kind is now refused at once with SQLSTATE F0000 and a message naming it,
# without opening it, and the session stays usable.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use IO::Socket::UNIX;
use POSIX qw(mkfifo);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use RetentionTest;

my $node = new_cluster('key_kinds');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_retention');
my $dir = PostgreSQL::Test::Utils::tempdir;

mkfifo("$dir/fifo.key", 0600) or die "mkfifo: $!";
mkdir("$dir/dir.key", 0700) or die "mkdir: $!";
my $socket = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => "$dir/sock.key", Listen => 1)
  or die "socket: $!";
chmod(0600, "$dir/sock.key");

my %kinds = (
	'a FIFO' => [ "$dir/fifo.key", 'a FIFO \(named pipe\)' ],
	'a directory' => [ "$dir/dir.key", 'a directory' ],
	'a socket' => [ "$dir/sock.key", 'a socket' ],
	'a character device' => [ '/dev/zero', 'a character device' ],);

for my $kind (sort keys %kinds)
{
	my ($path, $detail) = @{ $kinds{$kind} };
	for my $call ('retention.key_fingerprint()', "retention.pseudonym('x')")
	{
		my $start = time;
		# a hang would end at the psql timeout, far beyond the bound below
		my ($ret, $out, $err) = $node->psql('postgres',
			"\\set VERBOSITY verbose\nSET retention.key_file = '$path'; SELECT $call",
			timeout => 30);
		my $took = time - $start;
		like($err, qr/ERROR:\s+F0000: pseudonymization key file "\Q$path\E" is not a regular file/,
			"$kind as key file: $call refuses with F0000");
		like($err, qr/DETAIL:\s+It is $detail;/, "... and says it is $kind");
		cmp_ok($took, '<', 5, sprintf('... at once (%.2f s)', $took));
	}
}

# a session that met the FIFO goes on with a real key
open my $fh, '>', "$dir/real.key" or die "open: $!";
print $fh join('', map { sprintf '%02x', $_ } 0 .. 31), "\n";
close $fh;
chmod(0600, "$dir/real.key");
is($node->safe_psql('postgres', qq{
	SET retention.key_file = '$dir/fifo.key';
	DO \$\$BEGIN PERFORM retention.key_fingerprint(); EXCEPTION WHEN OTHERS THEN NULL; END\$\$;
	SET retention.key_file = '$dir/real.key';
	SELECT retention.key_fingerprint();}),
	'b02d8f2885fe2a16', 'the same session then loads a regular key file');

# a warning at policy time names the FIFO as unusable without opening it
$node->safe_psql('postgres', q{CREATE TABLE t(id int, name text, at date);
	SELECT retention.tag('t', 'name', 'name', 'pseudonym');});
my ($ret, $out, $err) = $node->psql('postgres',
	"SET retention.key_file = '$dir/fifo.key'; SELECT retention.add_policy('t', '1 year', 'at', 'anonymize')",
	timeout => 30);
is($ret, 0, 'declaring a pseudonymizing policy with a FIFO as key file does not hang');
like($err, qr/WARNING:.*no pseudonymization key is usable yet/, '... and warns that the key is not usable');

close $socket;
done_testing();
