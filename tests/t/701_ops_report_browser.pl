# retention.report('html') in a real browser: Debian's headless chromium loads the
# page from a file, its DOM after rendering holds the report's text (escaped: a basis
# written as HTML stays text and runs nothing), and its screenshot is a picture, not a
# blank page: it has the chart's two bar colours and many others.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../perl";
use Compress::Zlib;
use File::Temp qw(tempdir);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $chromium = '/usr/bin/chromium';
ok(-x $chromium, 'chromium is installed (scripts/lib.sh RT_TEST_PACKAGES)') or BAIL_OUT('install chromium');

my $node = PostgreSQL::Test::Cluster->new('report');
$node->init;
$node->append_conf('postgresql.conf', "timezone = 'UTC'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', q{
	SET client_min_messages = warning;
	CREATE EXTENSION pg_retention;
	CREATE TABLE customer (customer_id int PRIMARY KEY, email text, closed_at timestamptz);
	CREATE TABLE rental (rental_id int PRIMARY KEY, customer_id int REFERENCES customer, returned timestamptz);
	INSERT INTO customer SELECT g, 'c' || g || '@example.org', NULL FROM generate_series(1, 20) g;
	INSERT INTO rental SELECT g, 1 + g % 20, now() - interval '100 days' FROM generate_series(1, 300) g;
	SELECT retention.tag('customer', 'email', 'email');
	SELECT retention.add_subject('customer', 'customer', 'customer_id');
	SELECT retention.add_policy('rental', '90 days', 'returned',
	       basis => 'rentals: 90 days <script>document.title="pwned"</script><img src=x onerror="document.title=1">');
	SELECT retention.add_policy('customer', '30 days', 'closed_at', 'anonymize', basis => 'closed accounts & "emails"');
	SELECT retention.hold('customer', '3', 'court order 17/2026');
	SELECT * FROM retention.erase_subject('customer', '3');
	UPDATE retention.erasure_ledger SET due_at = now() - interval '2 days';});
$node->safe_psql('shop', q{CALL retention.run('rental')});
$node->safe_psql('shop', q{UPDATE customer SET closed_at = now() - interval '60 days' WHERE customer_id > 12});
$node->safe_psql('shop', q{CALL retention.run('customer')});
my $deleted = $node->safe_psql('shop', q{SELECT sum(rows) FROM retention.runs WHERE action = 'delete'});
my $anonymized = $node->safe_psql('shop', q{SELECT sum(rows) FROM retention.runs WHERE action = 'anonymize'});
is($deleted, '285', 'the rental policy deleted 285 rows (15 are held)');
is($anonymized, '8', 'the customer policy anonymized 8 customers');

my $dir = tempdir(CLEANUP => 1);
my $page = "$dir/report.html";
my $html = $node->safe_psql('shop', q{SELECT retention.report('html')});
open(my $fh, '>:raw', $page) or die "$page: $!";
print $fh $html, "\n";
close $fh;

# Runs headless chromium with a new profile on the page; returns its stdout.
sub chromium
{
	my (@args) = @_;
	my $profile = tempdir(DIR => $dir);
	my ($out, $err) = ('', '');
	local $ENV{HOME} = $dir;
	IPC::Run::run([ $chromium, '--headless', '--no-sandbox', '--disable-gpu',
		'--disable-background-networking', '--disable-component-update', '--disable-sync',
		'--no-first-run', "--user-data-dir=$profile", @args, "file://$page" ],
		'<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(120));
	return $out;
}

# the text as rendered: the DOM after the page ran
my $dom = chromium('--dump-dom');
like($dom, qr{<title>Data retention report: database shop</title>}, 'the page has its title (no script changed it)');
like($dom, qr{<h1>Data retention report: database shop</h1>}, 'and its heading');
for my $h ('1. Personal data and retention periods', '2. State of the policies', '3. Legal holds',
	'4. Erasure requests', '5. Rows deleted and anonymized per week', '6. Audit trail')
{
	like($dom, qr{<h2>\Q$h\E</h2>}, "section: $h");
}
like($dom, qr{<td>public\.customer</td><td>email</td><td>text</td><td>email</td><td>no</td><td>email</td>},
	'the personal column, its category and mask');
like($dom, qr{rentals: 90 days &lt;script&gt;document\.title="pwned"&lt;/script&gt;&lt;img src=x onerror="document\.title=1"&gt;},
	'a basis written as HTML is shown as text');
unlike($dom, qr{<script|<img}i, 'and no script or image element came of it');
like($dom, qr{closed accounts &amp; "emails"}, 'ampersands and quotes survive');
like($dom, qr{<td>Rows overdue now</td><td>0</td>}, 'nothing overdue after the runs');
like($dom, qr{<td>Legal holds active</td><td>1</td>}, 'one hold');
like($dom, qr{<tr class="attention"><td>Erasure requests</td><td>1 received: 0 done \(0 after their deadline\), 1 pending \(1 past their deadline\)</td>},
	'the erasure past its deadline is flagged');
like($dom, qr{<td>court order 17/2026</td>}, 'the hold and its reason');
unlike($dom, qr{<td>3</td><td>a data subject}, 'the held subject is named by kind, not id');
like($dom, qr{<td>Audit trail</td><td>chain intact; \d+ entries; no anchor given out yet</td>}, 'the audit chain verified');
like($dom, qr{<title>week of [0-9-]+: $deleted deleted</title>}, 'the chart has a bar of the rows deleted this week');
like($dom, qr{<title>week of [0-9-]+: $anonymized anonymized</title>}, 'and one of the rows anonymized');

# the picture
my $png = "$dir/report.png";
chromium("--screenshot=$png", '--window-size=1100,1900', '--hide-scrollbars');
ok(-s $png, 'chromium wrote a screenshot');
my ($width, $height, $colours) = png_colours($png);
is($width, 1100, 'the screenshot is 1100 pixels wide');
cmp_ok(scalar(keys %$colours), '>', 50, 'it is not blank: more than 50 distinct colours');
my $white = $colours->{'255,255,255'} // 0;
cmp_ok($white / ($width * $height), '<', 0.97, 'and not almost all white');
ok($colours->{'192,57,43'}, 'the chart\'s red bar (rows deleted) is painted');
ok($colours->{'46,134,193'}, 'the chart\'s blue bar (rows anonymized) is painted');
ok($colours->{'253,236,234'}, 'the attention rows are shaded');

$node->stop;
done_testing();

# Decodes an 8-bit RGB or RGBA, non-interlaced PNG (as chromium writes them); returns
# its width, height and a hash of its colours "r,g,b" => pixel count.
sub png_colours
{
	my ($file) = @_;
	open(my $in, '<:raw', $file) or die "$file: $!";
	local $/;
	my $data = <$in>;
	close $in;
	die "$file is not a PNG" unless substr($data, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, $w, $h, $depth, $type, $interlace) = (8, '');
	while ($pos < length $data)
	{
		my ($len, $tag) = unpack('N a4', substr($data, $pos, 8));
		my $body = substr($data, $pos + 8, $len);
		($w, $h, $depth, $type, undef, undef, $interlace) = unpack('N N C C C C C', $body) if $tag eq 'IHDR';
		$idat .= $body if $tag eq 'IDAT';
		$pos += 12 + $len;
	}
	die "unsupported PNG (depth $depth, type $type, interlace $interlace)"
	  unless $depth == 8 && ($type == 2 || $type == 6) && !$interlace;
	my $bpp = $type == 6 ? 4 : 3;
	my $raw = uncompress($idat) // die 'corrupt PNG data';
	my $stride = $w * $bpp;
	my @prev = (0) x $stride;
	my %colours;
	for my $y (0 .. $h - 1)
	{
		my $filter = ord(substr($raw, $y * ($stride + 1), 1));
		my @cur = unpack('C*', substr($raw, $y * ($stride + 1) + 1, $stride));
		for my $i (0 .. $stride - 1)
		{
			my $a = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
			my $b = $prev[$i];
			my $c = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
			my $x = $cur[$i];
			if ($filter == 1) { $x += $a }
			elsif ($filter == 2) { $x += $b }
			elsif ($filter == 3) { $x += ($a + $b) >> 1 }
			elsif ($filter == 4)
			{
				my $p = $a + $b - $c;
				my ($pa, $pb, $pc) = (abs($p - $a), abs($p - $b), abs($p - $c));
				$x += ($pa <= $pb && $pa <= $pc) ? $a : ($pb <= $pc) ? $b : $c;
			}
			$cur[$i] = $x & 0xff;
		}
		for (my $i = 0; $i < $stride; $i += $bpp)
		{
			$colours{"$cur[$i],$cur[$i+1],$cur[$i+2]"}++;
		}
		@prev = @cur;
	}
	return ($w, $h, \%colours);
}
