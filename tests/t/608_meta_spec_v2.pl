# META.json follows the PGXN Meta Spec v2 (RFC 3, meta-spec 2.0.x): the
# required properties are there and of their types, no v1 property or other
# unknown key is left, the paths it names exist, its version is the control
# file's, its licence is the one debian/copyright states, the PostgreSQL
# versions it claims are the ones README says are tested, its dependencies are
# package URLs, and it names no placeholder address.  No server is needed.
use strict;
use warnings;
use FindBin;
use JSON::PP;
use Test::More;

my $repo = "$FindBin::RealBin/../..";

# slurp FILE: the file's text, or '' when it cannot be read.
sub slurp
{
	my ($file) = @_;
	open(my $fh, '<', $file) or return '';
	local $/;
	return scalar <$fh>;
}

my $meta = eval { JSON::PP->new->decode(slurp("$repo/META.json")) };
ok(ref $meta eq 'HASH', 'META.json is a JSON object') or diag $@;
$meta = {} unless ref $meta eq 'HASH';

# the shapes of the spec's data types (RFC 3, "Data Types"; the regular
# expressions of the spec's JSON schema, written for Perl)
my $term = qr/\A[^.\/\\\s\p{Cc}]{2,}\z/;
my $tag = qr/\A[^\/\\\p{Cc}]{2,255}\z/;
my $semver = qr/\A(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\z/;
my $version = qr/(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*)){0,2}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?/;
my $range = qr/\A(?:(?:[=!]=|[<>]=?)\s*)?$version(?:,\s*(?:(?:[=!]=|[<>]=?)\s*)?$version)*\z/;
my $purl = qr/\Apkg:[a-zA-Z.+-][a-zA-Z0-9.+-]+\/[^@?#]+(?:@[^?#]+)?(?:\?[^#]+)?(?:#\S+)?\z/;
my $custom = qr/\A[xX]_./;

# unknown_keys HASH, ALLOWED...: the keys of HASH that are neither ALLOWED nor custom (x_...).
sub unknown_keys
{
	my ($h, @allowed) = @_;
	my %ok = map { $_ => 1 } @allowed;
	return join(',', sort grep { !$ok{$_} && $_ !~ $custom } keys %{ ref $h eq 'HASH' ? $h : {} });
}

# is_range VALUE: true when VALUE is a Version Range (the number 0, or a string of constraints).
sub is_range
{
	my ($v) = @_;
	return 1 if !ref $v && defined $v && $v =~ /\A0\z/ && !JSON::PP::is_bool($v);
	return defined $v && !ref $v && $v =~ $range;
}

# the required properties, and nothing the spec does not define
my @required = qw(name version abstract maintainers license contents meta-spec);
is(join(',', grep { !exists $meta->{$_} } @required), '', 'every required property is there');
is(unknown_keys($meta, @required, qw(description producer classifications ignore dependencies resources artifacts)),
	'', 'no other top-level property: nothing left of the v1 layout (provides, prereqs, generated_by, tags)');
like($meta->{'meta-spec'}{version} // '', qr/\A2\.0\.\d+\z/, 'meta-spec version 2.0.x');
is(unknown_keys($meta->{'meta-spec'}, qw(version url)), '', 'meta-spec has only version and url');
is($meta->{'meta-spec'}{url} // 'https://rfcs.pgxn.org/0003-meta-spec-v2.html',
	'https://rfcs.pgxn.org/0003-meta-spec-v2.html', 'meta-spec url, if any, is the v2 RFC');

# name, version, abstract
like($meta->{name} // '', $term, 'name is a Term');
my ($control) = slurp("$repo/pg_retention.control") =~ /default_version\s*=\s*'([^']+)'/;
like($meta->{version} // '', $semver, 'version is a SemVer');
is($meta->{version}, $control, "version is the control file's default_version ($control)");
ok(!ref $meta->{abstract} && length($meta->{abstract} // ''), 'abstract is a non-empty string');

# maintainers: each a name and an email or url
my $maintainers = ref $meta->{maintainers} eq 'ARRAY' ? $meta->{maintainers} : [];
cmp_ok(scalar @$maintainers, '>=', 1, 'maintainers is a non-empty array');
is(join(';', map { unknown_keys($_, qw(name email url)) } @$maintainers), join(';', ('') x @$maintainers),
	'maintainers have only name, email and url');
is(scalar(grep { length($_->{name} // '') && (defined $_->{email} || defined $_->{url}) } @$maintainers),
	scalar @$maintainers, 'every maintainer has a name and an email or url');

# license: an SPDX expression, and the licence debian/copyright states
like($meta->{license} // '', qr/\A(?:[\w.()-]+(?:[+]|:[\w.-]+)?|\s*(?:OR|AND|WITH)\s*)+\z/,
	'license is an SPDX license expression');
my ($copyright) = slurp("$repo/debian/copyright") =~ /^Files: \*\n(?:\S.*\n)*?License: (\S+)/m;
is($meta->{license}, $copyright // '(none)', 'license is the one debian/copyright states for the source');

# contents: the extension and the module, with paths that exist
my $contents = ref $meta->{contents} eq 'HASH' ? $meta->{contents} : {};
is(unknown_keys($contents, qw(extensions modules apps)), '', 'contents has only extensions, modules and apps');
my $ext = $contents->{extensions}{pg_retention} // {};
is(unknown_keys($ext, qw(control sql doc abstract tle)), '', 'the extension has only the spec\'s properties');
is($ext->{control} // '', 'pg_retention.control', 'the extension names its control file');
ok(defined $ext->{sql} && -f "$repo/$ext->{sql}" && $ext->{sql} =~ /\Apg_retention--[\d.]+\.sql\z/,
	"the extension's install script exists ($ext->{sql})");
ok(defined $ext->{doc} && -f "$repo/$ext->{doc}", "the extension's doc exists");
my ($module_big) = slurp("$repo/Makefile") =~ /^MODULE_big\s*=\s*(\S+)/m;
my $mod = $contents->{modules}{$module_big // ''} // {};
is(unknown_keys($mod, qw(type lib doc abstract preload)), '', 'the module has only the spec\'s properties');
is(join(',', $mod->{type} // '', $mod->{lib} // '', $mod->{preload} // ''), "bgw,$module_big,server",
	'the module is the library the Makefile builds: a background worker preloaded at server start');
like(slurp("$repo/" . ($mod->{doc} // 'none')), qr/^shared_preload_libraries = 'pg_retention'/m,
	"the module's doc says how to preload it");
my @names = (keys %{ $contents->{extensions} // {} }, keys %{ $contents->{modules} // {} });
is(scalar(grep { $_ !~ $term } @names), 0, 'extension and module names are Terms');

# dependencies: the PostgreSQL versions README says are tested, the rest as package URLs
my $deps = ref $meta->{dependencies} eq 'HASH' ? $meta->{dependencies} : {};
is(unknown_keys($deps, qw(platforms postgres pipeline packages variations)), '', 'dependencies has only the spec\'s properties');
is($deps->{pipeline} // '', 'pgxs', 'the build pipeline is pgxs');
my $pg = $deps->{postgres}{version};
ok(is_range($pg), 'the PostgreSQL version is a Version Range');
my @claims = map { join(',', /(\d+)/g) } slurp("$repo/README.md") =~ /tested on PostgreSQL (\d+(?:(?:,| and) \d+)*)\b/gi;
my %claims = map { $_ => 1 } @claims;
is(join(' / ', sort keys %claims), $claims[0] // '(none)', 'README says "tested on PostgreSQL ..." the same way everywhere');
my @tested = split /,/, $claims[0] // '';
# admits MAJOR: whether the range admits version MAJOR.0
my $admits = sub {
	my ($major) = @_;
	for my $c (split /,\s*/, $pg // '')
	{
		my ($op, $v) = $c =~ /\A([=!<>]*)\s*(\S+)\z/ or return 0;
		my ($vm) = $v =~ /\A(\d+)/;
		$op ||= '>=';
		my $ok = { '>=' => $major >= $vm, '>' => $major > $vm, '<=' => $major <= $vm,
			'<' => $major < $vm, '==' => $major == $vm, '!=' => $major != $vm }->{$op};
		return 0 unless $ok;
	}
	return 1;
};
cmp_ok(scalar @tested, '>=', 1, 'README says which PostgreSQL versions are tested');
is(join(',', grep { $admits->($_) } 12 .. 19), join(',', @tested),
	"META.json claims exactly the versions README says are tested (@tested)");
my $packages = ref $deps->{packages} eq 'HASH' ? $deps->{packages} : {};
is(unknown_keys($packages, qw(configure build test run develop)), '', 'package phases are configure, build, test, run, develop');
my (@bad_purls, @bad_ranges, @bad_relations);
for my $phase (values %$packages)
{
	push @bad_relations, unknown_keys($phase, qw(requires recommends suggests conflicts)) || ();
	for my $relation (grep { !/$custom/ } keys %$phase)
	{
		while (my ($p, $v) = each %{ $phase->{$relation} })
		{
			push @bad_purls, $p unless $p =~ $purl;
			push @bad_ranges, "$p=$v" unless is_range($v);
		}
	}
}
is(join(',', @bad_relations), '', 'relationships are requires, recommends, suggests, conflicts');
is(join(',', @bad_purls), '', 'every dependency is a package URL');
is(join(',', @bad_ranges), '', 'every dependency version is a Version Range');
ok(exists $packages->{build}{requires}{'pkg:generic/libsodium'} && exists $packages->{run}{requires}{'pkg:generic/libsodium'},
	'libsodium is required to build and to run');

# classifications
my $class = ref $meta->{classifications} eq 'HASH' ? $meta->{classifications} : {};
my %categories = map { $_ => 1 } ('Analytics', 'Auditing and Logging', 'Change Data Capture', 'Connectors',
	'Data and Transformations', 'Debugging', 'Index and Table Optimizations', 'Machine Learning', 'Metrics',
	'Orchestration', 'Procedural Languages', 'Query Optimizations', 'Search', 'Security', 'Tooling and Admin');
my @cats = @{ $class->{categories} // [] };
ok(@cats >= 1 && @cats <= 3 && !grep({ !$categories{$_} } @cats), 'one to three categories, from the spec\'s list');
my @tags = @{ $class->{tags} // [] };
my %seen;
ok(@tags >= 1 && @tags <= 32 && !grep({ $_ !~ $tag || $seen{$_}++ } @tags), 'tags are distinct Tags');

# no invented address: no URL on a reserved or placeholder host
my @urls;
my $walk;
$walk = sub {
	my ($v) = @_;
	if (ref $v eq 'HASH') { $walk->($_) for values %$v }
	elsif (ref $v eq 'ARRAY') { $walk->($_) for @$v }
	elsif (defined $v && $v =~ m{\A\w+://([^/:]+)}) { push @urls, $1 }
};
$walk->($meta);
is(join(',', grep { /(?:\A|\.)(?:example\.\w+|invalid|test|localhost|example)\z/i } @urls), '',
	'no URL on a placeholder host (example.*, .invalid, .test, localhost)');
is(unknown_keys($meta->{resources}, qw(homepage issues repository docs support badges)), '',
	'resources, if any, has only the spec\'s properties');

done_testing();
