# tests/perl/CitusLab.pm: a database of its own on the Citus cluster scripts/test-citus
# starts (a coordinator and two workers on Unix sockets), for the tests of
# tests/citus/ (docs/operations.md#citus).
#
# The cluster is named by the environment: CITUS_DIR (the socket directory, which is
# also the nodes' name for each other), CITUS_PORT (the coordinator; the workers
# listen on CITUS_PORT+1 and +2) and CITUS_BINDIR.  Each test makes its own database
# on every node, with citus and pg_retention, so the tests cannot see each other's
# tables, policies or audit trails.
package CitusLab;

use strict;
use warnings;

use IPC::Run qw(run start pump finish timeout);
use Test::More;
use Time::HiRes qw(time sleep);

# CitusLab->new(DB[, without_extension => 1]): creates database DB on every node, joins the
# workers and creates pg_retention on the coordinator (Citus propagates it), unless told not to.
sub new
{
	my ($class, $db, %opts) = @_;
	for my $var (qw(CITUS_DIR CITUS_PORT CITUS_BINDIR))
	{
		die "$var is not set: run the tests of tests/citus/ with scripts/test-citus\n" unless $ENV{$var};
	}
	my $self = bless {
		dir => $ENV{CITUS_DIR},
		port => $ENV{CITUS_PORT},
		bindir => $ENV{CITUS_BINDIR},
		db => $db,
	}, $class;
	for my $n (0 .. 2)
	{
		$self->psql_db($n, 'postgres', "DROP DATABASE IF EXISTS $db WITH (FORCE)");
		$self->psql_db($n, 'postgres', "CREATE DATABASE $db");
		$self->psql($n, 'CREATE EXTENSION citus');
	}
	$self->psql(0, "SELECT citus_set_coordinator_host('$self->{dir}', $self->{port})");
	$self->psql(0, "SELECT citus_add_node('$self->{dir}', " . $self->port($_) . ")") for (1, 2);
	$self->psql(0, 'CREATE EXTENSION pg_retention') unless $opts{without_extension};
	return $self;
}

# $c->port(N): the port of node N (0 the coordinator).
sub port
{
	my ($self, $n) = @_;
	return $self->{port} + $n;
}

# $c->psql_full(N, SQL[, DB]): runs SQL (one statement or several) on node N; returns (exit code, stdout, stderr).
sub psql_full
{
	my ($self, $n, $sql, $db) = @_;
	my ($out, $err) = ('', '');
	# from standard input: each statement its own transaction, as a session types them
	run([ "$self->{bindir}/psql", '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1',
		  '-h', $self->{dir}, '-p', $self->port($n), '-d', $db // $self->{db}, '-f', '-' ],
		'<', \$sql, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	chomp $out;
	return ($rc, $out, $err);
}

# $c->psql(N, SQL): runs SQL on node N of the test's database; returns its output, dies on error.
sub psql
{
	my ($self, $n, $sql) = @_;
	return $self->psql_db($n, $self->{db}, $sql);
}

# $c->psql_db(N, DB, SQL): as psql, in database DB.
sub psql_db
{
	my ($self, $n, $db, $sql) = @_;
	my ($rc, $out, $err) = $self->psql_full($n, $sql, $db);
	die "psql on node $n failed ($rc): $err\nSQL: $sql\n" if $rc != 0;
	return $out;
}

# $c->psql_error(N, SQL): runs SQL that must fail on node N; returns its stderr (dies when it succeeds).
sub psql_error
{
	my ($self, $n, $sql) = @_;
	my ($rc, $out, $err) = $self->psql_full($n, $sql);
	die "expected an error from node $n, got: $out\nSQL: $sql\n" if $rc == 0;
	return $err;
}

# $c->session(N): an interactive psql on node N; ->query(SQL) sends SQL and waits for its
# output, ->quit ends it.  For a transaction that holds locks while the test runs others.
sub session
{
	my ($self, $n) = @_;
	my $s = { in => '', out => '', err => '' };
	$s->{timer} = timeout(180);
	$s->{h} = start([ "$self->{bindir}/psql", '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=0',
					  '-h', $self->{dir}, '-p', $self->port($n), '-d', $self->{db} ],
					'<', \$s->{in}, '>', \$s->{out}, '2>', \$s->{err}, $s->{timer});
	return bless $s, 'CitusLab::Session';
}

# $c->wait_for(N, SQL, EXPECTED, SECONDS): polls SQL on node N until it returns EXPECTED; true if it did.
sub wait_for
{
	my ($self, $n, $sql, $expected, $seconds) = @_;
	my $end = time() + ($seconds // 60);
	while (time() < $end)
	{
		my ($rc, $out) = $self->psql_full($n, $sql);
		return 1 if $rc == 0 && $out eq $expected;
		sleep(0.25);
	}
	return 0;
}

# $c->log_file(N): the server log of node N (scripts/test-citus writes nodeN.log in CITUS_DIR).
sub log_file
{
	my ($self, $n) = @_;
	return "$self->{dir}/node$n.log";
}

# CitusLab::slurp(FILE): the contents of a file.
sub slurp
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "cannot read $file: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# $c->on_every_node(SQL): SQL's output on each node, joined with '|' (node 0 first).
sub on_every_node
{
	my ($self, $sql) = @_;
	return join('|', map { $self->psql($_, $sql) } 0 .. 2);
}

package CitusLab::Session;

use IPC::Run qw(pump);

# ->query(SQL): sends SQL and a marker, waits until the marker comes back; returns the output before it.
sub query
{
	my ($self, $sql) = @_;
	my $marker = 'done_' . int(rand(1_000_000_000));
	$self->{out} = '';
	# a statement without its semicolon would wait in psql's buffer while the marker is echoed
	$sql .= ';' unless $sql =~ /;\s*$/;
	$self->{in} .= "$sql\n\\echo $marker\n";
	pump $self->{h} until $self->{out} =~ /$marker/;
	my $out = $self->{out};
	$out =~ s/\n?$marker\n?//;
	return $out;
}

# ->quit: ends the session.
sub quit
{
	my ($self) = @_;
	$self->{in} .= "\\q\n";
	$self->{h}->finish;
}

1;
