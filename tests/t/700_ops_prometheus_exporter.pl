# Debian's prometheus-postgres-exporter, started against a test cluster with the
# query file the repository ships (contrib/prometheus/queries.yaml), connected as a
# monitoring role that has SELECT on retention.metrics and nothing else of
# pg_retention's: its /metrics page, fetched over loopback, carries the retention_*
# series with the values the database holds. A stopped scheduler reads as stopped,
# with the overdue rows still counted, never as "nothing overdue".
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use SchedTest;

my $exporter = '/usr/bin/prometheus-postgres-exporter';
my $queries = "$FindBin::RealBin/../../contrib/prometheus/queries.yaml";
ok(-x $exporter, 'prometheus-postgres-exporter is installed (scripts/lib.sh RT_TEST_PACKAGES)')
  or BAIL_OUT('install prometheus-postgres-exporter');
ok(-f $queries, 'the repository ships contrib/prometheus/queries.yaml');

# the audit anchor interval is long: the worker logs one anchor at its start, then none
my $node = sched_node('exporter', "retention.audit_anchor_interval = '1h'");
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', q{
	CREATE EXTENSION pg_retention;
	CREATE TABLE customer (customer_id int PRIMARY KEY, email text);
	CREATE TABLE visits (id int PRIMARY KEY, customer_id int REFERENCES customer, at timestamptz);
	INSERT INTO customer SELECT g, 'c' || g || '@example.org' FROM generate_series(1, 5) g;
	SELECT retention.tag('customer', 'email', 'email');
	SELECT retention.add_subject('customer', 'customer', 'customer_id');
	SELECT retention.add_policy('visits', interval '1 hour', 'at');
	CREATE ROLE prometheus LOGIN;
	GRANT pg_monitor TO prometheus;
	GRANT SELECT ON retention.metrics TO prometheus;});
my $policy = $node->safe_psql('shop', 'SELECT policy_id FROM retention.policies');

# the scheduler is stopped; then rows expire, a customer is held, and its erasure waits
$node->safe_psql('postgres', 'ALTER SYSTEM SET retention.enabled = off; SELECT pg_reload_conf()');
ok(defined poll_until($node, 'shop', 'SELECT state FROM retention.scheduler_state()', 'disabled', 30),
	'the scheduler is stopped (retention.enabled = off)');
$node->safe_psql('shop', q{
	INSERT INTO visits SELECT g, 1 + g % 5, now() - interval '2 days' FROM generate_series(1, 40) g;
	INSERT INTO visits SELECT g, 1, now() FROM generate_series(41, 45) g;
	SELECT retention.hold('customer', '2', 'dispute 2026/9');
	SELECT * FROM retention.erase_subject('customer', '2');
	UPDATE retention.erasure_ledger SET due_at = now() - interval '1 day';});

# a free port on loopback for the exporter's own listener
my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1)
  or die "no free port: $!";
my $port = $probe->sockport;
close $probe;
my $dsn = sprintf('host=%s port=%d user=prometheus dbname=shop sslmode=disable', $node->host, $node->port);
my ($out, $err) = ('', '');
my $proc = do
{
	local $ENV{DATA_SOURCE_NAME} = $dsn;
	IPC::Run::start([ $exporter, "--web.listen-address=127.0.0.1:$port",
		"--extend.query-path=$queries", '--disable-settings-metrics', '--log.level=info' ],
		'<', \undef, '>', \$out, '2>', \$err);
};

# Fetches /metrics; returns its series as name{labels} => value, and the raw page.
my $http = HTTP::Tiny->new(timeout => 10);
sub scrape
{
	my $res = $http->get("http://127.0.0.1:$port/metrics");
	return (undef, $res->{content} // '') unless $res->{success};
	my %series;
	for my $line (split /\n/, $res->{content})
	{
		next if $line =~ /^#/ || $line !~ /^(retention_\w+)(\{[^}]*\})?\s+(\S+)$/;
		my ($name, $labels, $value) = ($1, $2 // '', $3);
		# the labels without the exporter's server="..." one, sorted
		my @l = grep { !/^server=/ } ($labels =~ /(\w+="[^"]*")/g);
		$series{ $name . '{' . join(',', sort @l) . '}' } = $value;
	}
	return (\%series, $res->{content});
}

# Scrapes until $cond->(\%series) holds or $timeout seconds pass; returns the last series.
sub scrape_until
{
	my ($cond, $timeout) = @_;
	my $start = time;
	my ($s, $raw);
	while (time - $start < $timeout)
	{
		($s, $raw) = scrape();
		return ($s, $raw) if $s && $cond->($s);
		sleep 0.5;
	}
	return ($s, $raw);
}

my $p = qq{action="delete",datname="shop",policy_id="$policy",table="public.visits"};
my ($s, $raw) = scrape_until(sub { exists $_[0]{"retention_policy_rows_overdue{$p}"} }, 30);
ok($s, "the exporter answers on 127.0.0.1:$port") or diag("exporter stderr:\n$err\npage:\n$raw");
like($raw, qr/^pg_up 1$/m, 'the exporter reached the cluster as role prometheus');
like($raw, qr/^# TYPE retention_policy_rows_overdue gauge$/m, 'series carry their type');
like($raw, qr/^# HELP retention_policy_rows_overdue Rows past the cutoff that a run would remove now/m,
	'and the description of queries.yaml');

# the stopped scheduler, and the overdue rows it leaves, as they are
is($s->{'retention_scheduler_running{datname="shop",state="disabled"}'}, '0',
	'retention_scheduler_running is 0, state disabled');
is($s->{"retention_policy_rows_overdue{$p}"}, '32', 'rows overdue: 40 expired, 8 of them held');
is($s->{"retention_policy_rows_held{$p}"}, '8', 'rows held by the legal hold');
is($s->{"retention_policy_rows_due{$p}"}, '40', 'rows due');
is($s->{"retention_policy_rows_blocked{$p}"}, '0', 'rows blocked');
is($s->{"retention_policy_enabled{$p}"}, '1', 'the policy is enabled');
is($s->{"retention_policy_count_error{$p}"}, '0', 'and counted');
cmp_ok($s->{"retention_policy_oldest_overdue_seconds{$p}"}, '>=', 2 * 86400 - 3600 - 60,
	'the oldest overdue row is about 47 hours past its period');
cmp_ok($s->{"retention_policy_oldest_overdue_seconds{$p}"}, '<', 2 * 86400 - 3600 + 600, '(not more)');
is($s->{'retention_erasures_pending{datname="shop"}'}, '1', 'one erasure pending');
is($s->{'retention_erasures_overdue{datname="shop"}'}, '1', 'past its deadline');
is($s->{'retention_erasures_received{datname="shop"}'}, '1', 'one received');
is($s->{'retention_holds_active{datname="shop"}'}, '1', 'one hold active');
my $entries = $node->safe_psql('shop', 'SELECT count(*) FROM retention.audit');
is($s->{'retention_audit_entries{datname="shop"}'}, $entries, 'audit entries as in retention.audit');
my $anchored = $node->safe_psql('shop', 'SELECT COALESCE(max(seq), 0) FROM retention.audit_anchor_log');
is($s->{'retention_audit_unanchored{datname="shop"}'}, $entries - $anchored,
	'entries after the latest anchor given out');

# the scheduler back: the worker runs the policy; the scheduler's series says so at once,
# the policy's after its cache_seconds (30)
$node->safe_psql('postgres', 'ALTER SYSTEM SET retention.enabled = on; SELECT pg_reload_conf()');
ok(defined poll_until($node, 'shop',
		q{SELECT count(*) FROM retention.runs WHERE trigger = 'worker' AND status = 'success'}, '1', 60),
	'the worker ran the policy');
($s) = scrape_until(sub { ($_[0]{'retention_scheduler_running{datname="shop",state="running"}'} // '') eq '1' }, 30);
is($s->{'retention_scheduler_running{datname="shop",state="running"}'}, '1',
	'retention_scheduler_running is 1, state running');
($s) = scrape_until(sub { ($_[0]{"retention_policy_rows_overdue{$p}"} // '') eq '0' }, 60);
is($s->{"retention_policy_rows_overdue{$p}"}, '0', 'no row overdue after the run');
is($s->{"retention_policy_rows_held{$p}"}, '8', 'the held rows stay, and are said to');
cmp_ok($s->{"retention_policy_last_success_seconds{$p}"}, '<', 90, 'the last success is recent');
is($s->{"retention_policy_runs_failed{$p}"}, '0', 'no failed run');

# a failing policy: its failed runs count until the next success
$node->safe_psql('shop', q{
	CREATE FUNCTION keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
	CREATE TRIGGER keep_rows BEFORE DELETE ON visits FOR EACH ROW EXECUTE FUNCTION keep_rows();
	UPDATE visits SET at = now() - interval '2 days' WHERE id = 41;});
ok(defined poll_until($node, 'shop',
		q{SELECT count(*) > 0 FROM retention.runs WHERE status = 'failed'}, 't', 60),
	'the worker recorded a failed run');
($s) = scrape_until(sub { ($_[0]{"retention_policy_runs_failed{$p}"} // '0') ne '0' }, 60);
cmp_ok($s->{"retention_policy_runs_failed{$p}"}, '>=', 1, 'failed runs since the last success');
is($s->{"retention_policy_rows_overdue{$p}"}, '1', 'and the row it refused is still overdue');

$proc->signal('TERM');
$proc->finish;
unlike($err, qr/level=error.*retention/i, 'the exporter logged no error about the retention queries')
  or diag($err);

$node->stop;
done_testing();
