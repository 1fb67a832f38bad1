#!/usr/bin/env bats
# perl on osmem: a script with hashes, regexes, sort and string building prints
# the same results plainly and under LD_PRELOAD=libosmem.so.

load helpers

setup_file() {
	require_lib
	command -v perl >/dev/null || { echo "perl is not installed" >&2; return 1; }
}

setup() {
	export PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
	SCRIPT=$BATS_TEST_TMPDIR/work.pl
	cat >"$SCRIPT" <<'EOF'
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $seed = 12345;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed >> 8; }

# hashes: word counts, nested structures, deletes
my @syll = qw(ka lo mi nu pe ra si to vu ze);
my (%count, %len);
for my $i (1 .. 150000) {
	my $w = join '', map { $syll[rnd() % @syll] } 1 .. (1 + rnd() % 4);
	$count{$w}++;
	push @{ $len{ length $w } }, $w if $i % 10 == 0;
}
delete $count{$_} for grep { $count{$_} < 5 } keys %count;
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 9];
print "words ", scalar(keys %count), "\n";
print "top @top\n";
print "len ", join(',', map { "$_=" . scalar @{ $len{$_} } } sort { $a <=> $b } keys %len), "\n";

# regexes: captures, substitutions, global matches, split
my $text = join "\n", map { sprintf "id=%05d name=%s score=%d.%02d", $_, $top[$_ % 10], rnd() % 100, rnd() % 100 } 1 .. 40000;
my ($n, $sum) = (0, 0);
while ($text =~ /^id=(\d+) name=(\w+) score=(\d+)\.(\d+)$/mg) {
	my ($id, $name, $int, $frac) = ($1, $2, $3, $4);
	$n++;
	$sum += $int * 100 + $frac if $name =~ /^(?:ka|lo|ra)/;
}
print "matched $n sum $sum\n";
(my $t2 = $text) =~ s/name=(\w+)/"N=" . uc(reverse $1)/ge;
print "subst ", md5_hex($t2), "\n";
my @fields = split /[=\s]+/, $text;
print "fields ", scalar(@fields), " ", md5_hex(join '|', sort @fields[0 .. 9999]), "\n";
my %by_name;
push @{ $by_name{$2} }, $1 while $text =~ /id=(\d+) name=(\w+)/g;
print "names ", join(' ', map { "$_:" . scalar @{ $by_name{$_} } } sort keys %by_name), "\n";

# sort: numeric, string, Schwartzian transform, big lists
my @nums = map { rnd() % 1000000 } 1 .. 200000;
my @sorted = sort { $a <=> $b } @nums;
print "nums $sorted[0] $sorted[100000] $sorted[-1]\n";
my @st = map { $_->[1] } sort { $a->[0] cmp $b->[0] or $a->[1] <=> $b->[1] } map { [ scalar reverse("$_"), $_ ] } @nums[0 .. 49999];
print "st ", md5_hex(join ',', @st), "\n";

# strings and arrays growing and shrinking
my $s = '';
$s .= chr(65 + $_ % 26) x ($_ % 50) for 1 .. 20000;
print "string ", length($s), " ", md5_hex($s), "\n";
my @a;
push @a, [ $_, "x" x ($_ % 100) ] for 1 .. 100000;
splice @a, 1000, 50000;
shift @a for 1 .. 100;
print "array ", scalar(@a), " $a[0][0] $a[-1][0]\n";
EOF
}

@test "perl with hashes, regexes and sort prints the same results under osmem" {
	run_both perl "$SCRIPT"
	[ "$(wc -l <"$RUN_PLAIN_OUT")" -eq 11 ] || { echo "unexpected script output:"; cat "$RUN_PLAIN_OUT"; false; }
	assert_osmem_served --prog perl perl "$SCRIPT"
}

# Counts identifiers in the top-level headers with perl fed by find | xargs.
count_identifiers() {
	find /usr/include -maxdepth 1 -name '*.h' -print0 | sort -z |
		xargs -0 perl -lne '$h{$1}++ while /\b([a-z_]{6,})\b/g;
			END { print "$_ $h{$_}" for sort { $h{$b} <=> $h{$a} || $a cmp $b } grep { $h{$_} > 20 } keys %h }'
}

@test "perl -ne one-liners over /usr/include agree under osmem" {
	run_both perl -ne 'print "$ARGV:$.:$1\n" if /^#\s*define\s+(\w+)\s*\(/; close ARGV if eof' /usr/include/stdio.h /usr/include/stdlib.h /usr/include/string.h
	run_both count_identifiers
	[ "$(wc -l <"$RUN_PLAIN_OUT")" -gt 100 ] || { echo "too few identifiers counted:"; cat "$RUN_PLAIN_OUT"; false; }
	assert_osmem_served --prog perl perl -e 'my %h = map { $_ => $_ * 2 } 1 .. 1000; print scalar(keys %h), "\n"'
}
