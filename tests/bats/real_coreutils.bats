#!/usr/bin/env bats
# Text utilities on osmem: each runs plainly and under LD_PRELOAD=libosmem.so
# and must exit the same way and print the same output.

load helpers

setup_file() {
	require_lib
	# 400k deterministic lines "word number word", from a small vocabulary so
	# that uniq and the awk counters have real work to do.
	awk 'BEGIN {
		srand(7)
		split("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu", w, " ")
		for (i = 0; i < 400000; i++)
			printf "%s %d %s\n", w[int(rand() * 26) + 1], int(rand() * 5000), w[int(rand() * 26) + 1]
	}' >"$BATS_FILE_TMPDIR/words.txt"
	# glibc's regex engine is slow with groups: the sed regex tests use a part.
	sed -n '1,60000p' "$BATS_FILE_TMPDIR/words.txt" >"$BATS_FILE_TMPDIR/words-60k.txt"
	sed -n '1,3000p' "$BATS_FILE_TMPDIR/words.txt" >"$BATS_FILE_TMPDIR/words-3k.txt"
}

@test "ls -lR /usr/share lists the same tree under osmem" {
	run_both ls -lR /usr/share
	[ -s "$RUN_PLAIN_OUT" ] || { echo "ls -lR /usr/share printed nothing"; false; }
	assert_osmem_served --prog ls ls -lR /usr/share
}

# make demo's tree (scripts/bench.d/workloads.py gen_tree), smaller: what it
# lists must depend on the seed alone, never on when or where it was made.
@test "ls -lR of make demo's generated tree: the same listing from the same seed, dated from it, and under osmem" {
	local d=$BATS_TEST_TMPDIR
	python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import workloads
for root in sys.argv[2:]: workloads.gen_tree(root, entries=5000)' "$REPO/scripts/bench.d" "$d/a" "$d/b"
	(cd "$d/a" && ls -lR .) >"$d/a.ls"
	(cd "$d/b" && ls -lR .) >"$d/b.ls"
	[ "$(wc -l <"$d/a.ls")" -gt 5000 ] || { echo "the tree lists $(wc -l <"$d/a.ls") lines"; false; }
	cmp "$d/a.ls" "$d/b.ls" || { diff "$d/a.ls" "$d/b.ls" | head; false; }
	local recent
	recent=$(find "$d/a" -mindepth 1 -newermt 2024-01-01 | head -3)
	[ -z "$recent" ] || { echo "entries dated at generation, not from the seed: $recent"; false; }
	cd "$d/a"
	run_both ls -lR .
	assert_osmem_served --prog ls ls -lR .
}

@test "sort, sort -u, sort -k2,2n, uniq -c and wc agree with glibc on 400k generated lines" {
	local w=$BATS_FILE_TMPDIR/words.txt
	run_both sort "$w"
	cp "$RUN_PLAIN_OUT" "$BATS_TEST_TMPDIR/sorted.txt"
	run_both sort -u "$w"
	run_both sort -t ' ' -k2,2n -k1,1 -k3,3r "$w"
	run_both uniq -c "$BATS_TEST_TMPDIR/sorted.txt"
	run_both uniq -d -f1 "$BATS_TEST_TMPDIR/sorted.txt"
	run_both wc "$w"
	run_both wc -L -w "$w" "$BATS_TEST_TMPDIR/sorted.txt"
	assert_osmem_served --prog sort sort "$w"
	assert_osmem_served --prog uniq uniq -c "$BATS_TEST_TMPDIR/sorted.txt"
	assert_osmem_served --prog wc wc "$w"
}

@test "sort --parallel=2 -S 64M sorts 100 MB of lines identically under osmem" {
	local big=$BATS_TEST_TMPDIR/big.txt
	awk 'BEGIN {
		srand(42)
		for (i = 0; i < 2700000; i++)
			printf "%08d %s %07d %.6f\n", int(rand() * 100000000),
				substr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", int(rand() * 40) + 1, 8 + int(rand() * 5)),
				i, rand()
	}' >"$big"
	local size
	size=$(stat -c %s "$big")
	[ "$size" -gt 95000000 ] || { echo "generated only $size bytes, expected ~100 MB"; false; }
	mkdir "$BATS_TEST_TMPDIR/sorttmp"
	# -S 64M is smaller than the input: sort writes and merges temporary files.
	run_both sort --parallel=2 -S 64M -T "$BATS_TEST_TMPDIR/sorttmp" "$big"
	local lines
	lines=$(wc -l <"$RUN_OSMEM_OUT")
	[ "$lines" -eq 2700000 ] || { echo "sorted output has $lines lines, expected 2700000"; false; }
	rm -f "$RUN_PLAIN_OUT" "$RUN_OSMEM_OUT"
	# The served check on a tenth of the data: the same program and options.
	sed -n '1,270000p' "$big" >"$BATS_TEST_TMPDIR/part.txt"
	assert_osmem_served --prog sort sort --parallel=2 -S 64M -T "$BATS_TEST_TMPDIR/sorttmp" -o /dev/null "$BATS_TEST_TMPDIR/part.txt"
}

@test "grep -r over /usr/include matches the same lines under osmem" {
	run_both grep -rn malloc /usr/include
	[ -s "$RUN_PLAIN_OUT" ] || { echo "grep found no 'malloc' in /usr/include"; false; }
	run_both grep -rEc '^#[[:space:]]*define[[:space:]]+[A-Z_][A-Z0-9_]*[[:space:]]+\(?-?[0-9]+' /usr/include
	run_both grep -rliw --include='*.h' -e 'thread' -e 'mutex' /usr/include
	assert_osmem_served --prog grep grep -rn malloc /usr/include
}

@test "sed scripts transform generated text identically under osmem" {
	local w=$BATS_FILE_TMPDIR/words.txt small=$BATS_FILE_TMPDIR/words-60k.txt
	run_both sed -E -e 's/^([a-z]+) ([0-9]+) ([a-z]+)$/\3-\2-\1/' -e '/^a/d' -e 'y/abcdef/ABCDEF/' "$small"
	run_both sed -E 's/([a-z]+)/<\1>/g' "$small"
	run_both sed -n -e '/^zulu .* alpha$/{s/ /_/g;p}' -e '$=' "$w"
	# Pattern space: join every 3 lines into one; hold space: reverse a part.
	run_both sed -e 'N;N;s/\n/ | /g' "$w"
	run_both sed -n -e '1!G;h;$p' "$BATS_FILE_TMPDIR/words-3k.txt"   # quadratic: a small input
	assert_osmem_served --prog sed sed -E 's/([a-z]+)/<\1>/g' "$small"
}

count_with_awk() {
	awk '{ n[$1]++; s[$1] += $2; t[$1 " " $3]++ }
	     END { for (k in n) printf "%s %d %d\n", k, n[k], s[k]; for (k in t) if (t[k] > 950) print "pair", k, t[k] }' "$1" |
		LC_ALL=C sort
}

@test "awk with associative arrays and printf agrees under osmem" {
	local w=$BATS_FILE_TMPDIR/words.txt
	run_both count_with_awk "$w"
	run_both awk '{ line = toupper($3) ":" $2 ":" $1; if (length(line) > 20) print NR, line, substr($0, 3, 7), index($0, "o") }' "$w"
	run_both awk -F ' ' 'BEGIN { OFS = "\t" } { gsub(/[aeiou]/, "#", $1); $4 = sprintf("%05.1f", $2 / 7); print }' "$w"
	assert_osmem_served --prog '*awk' awk '{ n[$1]++ } END { for (k in n) print k, n[k] }' "$w"
}

@test "find /usr -name '*.h' lists the same files under osmem" {
	run_both find /usr -name '*.h'
	[ -s "$RUN_PLAIN_OUT" ] || { echo "find found no headers under /usr"; false; }
	run_both find /usr/include /usr/share/doc -type f -size +4k -printf '%p %s %m\n'
	assert_osmem_served --prog find find /usr -name '*.h'
}

@test "bash runs a script with pipelines, arrays and substitutions identically under osmem" {
	local script=$BATS_TEST_TMPDIR/pipeline.sh
	cat >"$script" <<'EOF'
set -euo pipefail
w=$1
declare -A count
while read -r a n b; do
	count[$a]=$(( ${count[$a]:-0} + n ))
done < <(sed -n '1,40000p' "$w")
for k in $(printf '%s\n' "${!count[@]}" | sort); do
	printf '%-10s %d\n' "$k" "${count[$k]}"
done
arr=()
for i in $(seq 1 3000); do arr+=("item$((i * 7919 % 3001))"); done
echo "${#arr[@]} ${arr[0]} ${arr[2999]} ${arr[*]:100:3}"
s=$(printf 'x%.0s' $(seq 1 5000))
echo "${#s} ${s:0:5} ${s//x/yz}" | wc -c
seq 1 200000 | awk '{ print $1 * $1 % 9973 }' | sort -n | uniq -c | sort -k1,1nr -k2,2n | sed -n '1,15p'
tr 'a-z' 'A-Z' <"$w" | cut -d' ' -f1,3 | sort | uniq -c | sort -rn | sed -n '1,10p'
grep -c '^zulu' "$w"
EOF
	run_both bash "$script" "$BATS_FILE_TMPDIR/words.txt"
	[ "$(wc -l <"$RUN_PLAIN_OUT")" -gt 50 ] || { echo "script printed too little:"; cat "$RUN_PLAIN_OUT"; false; }
	assert_osmem_served --prog bash bash "$script" "$BATS_FILE_TMPDIR/words.txt"
}
