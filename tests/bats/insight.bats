#!/usr/bin/env bats
# OSMEM_STATS and OSMEM_CHECK on small programs with known behaviour and on real ones.

load helpers

setup_file() {
	require_lib
	cc -O0 -g -o "$BATS_FILE_TMPDIR/leaky" "$REPO/tests/insight/leaky.c"
	cc -O0 -g -o "$BATS_FILE_TMPDIR/corrupt" "$REPO/tests/insight/corrupt.c"
}

# Value of "NAME N" in the calls line of a report.
calls_of() { grep -o " $1 [0-9]*" <<<"$2" | head -1 | awk '{print $2}'; }

@test "OSMEM_STATS=1 reports exact call counts and peak live bytes of a known program" {
	run env OSMEM_STATS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leaky"
	[ "$status" -eq 0 ]
	echo "$output"
	report=$(grep -A5 '^osmem stats: pid [0-9]* (leaky)' <<<"$output")
	[ "$(calls_of malloc "$report")" -ge 100 ]
	[ "$(calls_of calloc "$report")" -ge 1 ]
	[ "$(calls_of realloc "$report")" -ge 1 ]
	[ "$(calls_of free "$report")" -ge 40 ]
	# 100 live blocks of 1008 usable bytes at the peak.
	live=$(grep -o 'live [0-9]*' <<<"$report" | head -1 | awk '{print $2}')
	[ "$live" -ge 100800 ]
	grep -q 'syscalls: brk [1-9]' <<<"$report"
	grep -q 'fragmentation 0\.[0-9][0-9][0-9]' <<<"$report"
}

@test "without OSMEM_STATS nothing is reported" {
	run env LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leaky"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "OSMEM_STATS=PATH with %p gives each process of gcc its own report file" {
	printf 'int main(void){return 0;}\n' >"$BATS_TEST_TMPDIR/t.c"
	env OSMEM_STATS="$BATS_TEST_TMPDIR/st.%p" LD_PRELOAD="$LIB" gcc -O2 -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/t.c"
	ls "$BATS_TEST_TMPDIR"/st.*
	grep -l '(cc1)' "$BATS_TEST_TMPDIR"/st.* | grep -q .
	grep -l '(gcc)' "$BATS_TEST_TMPDIR"/st.* | grep -q .
	# Every file is one whole report with a non-zero malloc count.
	for f in "$BATS_TEST_TMPDIR"/st.*; do
		[ "$(grep -c '^osmem stats' "$f")" -eq 1 ]
		[ "$(calls_of malloc "$(cat "$f")")" -gt 0 ]
	done
}

@test "OSMEM_STATS on python3 counts its allocations" {
	run env OSMEM_STATS=1 LD_PRELOAD="$LIB" /usr/bin/python3 -c 'import json; print(len(json.dumps({str(i): i for i in range(20000)})))'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(/usr/bin/python3 -c 'import json; print(len(json.dumps({str(i): i for i in range(20000)})))')" ]
	report=$(grep -A5 '(python3)' <<<"$output")
	[ "$(calls_of malloc "$report")" -gt 1000 ]
}

@test "OSMEM_CHECK=1 finds a damaged header, names the block and the call, and aborts" {
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/corrupt"
	echo "$output"
	[ "$status" -eq 134 ]
	damaged=$(grep -o 'damaged 0x[0-9a-f]*' <<<"$output" | awk '{print $2}')
	[ -n "$damaged" ]
	grep -Eq "^osmem: heap check failed in (malloc|free)\(\): block $damaged: " <<<"$output"
}

@test "OSMEM_CHECK=1 runs real programs cleanly (ls, python3)" {
	run_both ls -l /usr/bin
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" ls -l /usr/lib
	[ "$status" -eq 0 ]
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" /usr/bin/python3 -c 'print(sorted({i % 97: i for i in range(5000)}.items())[:3])'
	[ "$status" -eq 0 ]
	[ "$output" = "[(0, 4947), (1, 4948), (2, 4949)]" ]
}
