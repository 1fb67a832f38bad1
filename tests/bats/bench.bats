#!/usr/bin/env bats
# make bench's rows (scripts/bench --list) and, at a tiny size, the
# microbenchmarks that check their blocks' content (tests/bench/burst.c,
# shortlived.c, live_heap.c): each builds without warnings, passes its check
# under osmem with the same output as under glibc, and catches a flipped
# byte (--corrupt). Benchmarks are not tests: no timing is asserted.

load helpers

setup_file() {
	require_lib
	export MB_BIN="$BATS_FILE_TMPDIR/bin"
	mkdir -p "$MB_BIN"
	local p
	for p in burst shortlived live_heap; do
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread -o "$MB_BIN/$p" "$REPO/tests/bench/$p.c" \
			2>"$BATS_FILE_TMPDIR/cc.log" || { cat "$BATS_FILE_TMPDIR/cc.log" >&2; return 1; }
	done
}

# Each case: the program and its arguments, at a tiny size.
CASES=(
	"burst 16 200000"
	"burst mixed 200000 --blocks 25,1600"
	"shortlived 500 4"
	"live_heap 2000 20000"
	"live_heap 2000 20000 --untouched"
)

@test "scripts/bench --list: every row, in its group" {
	run "$REPO/scripts/bench" --list
	[ "$status" = 0 ]
	local got
	got=$(awk '{ print $1 " " $2 }' <<<"$output" | tr '\n' ' ')
	[ "$got" = "churn-small 1 churn-mixed 1 churn-large 1 burst-16 1 burst-mixed 1 realloc_grow 1 \
live_million 1 live_heap 1 bigbuf 1 gcc 1 python3 1 perl 1 git 1 sqlite3 1 prodcons 2 larson 2 shortlived 2 \
sort 2 xz 2 " ] || { echo "rows: $got"; return 1; }
}

@test "burst, shortlived, live_heap: content checks pass under osmem, output as under glibc" {
	local c
	for c in "${CASES[@]}"; do
		local argv=($c)
		local want
		want=$("$MB_BIN/${argv[0]}" "${argv[@]:1}")
		run_osmem "$MB_BIN/${argv[0]}" "${argv[@]:1}"
		if [ "$status" != 0 ] || [ -n "$err" ] || [ "$out" != "$want" ] ||
			! [[ $out == "${argv[0]} "*" check=ok"* ]]; then
			echo "FAIL: $c under osmem: status $status"
			echo "stdout: $out (glibc: $want)"
			echo "stderr: $err"
			return 1
		fi
	done
}

@test "burst, shortlived, live_heap: a flipped byte (--corrupt) fails the check, status 3" {
	local c
	for c in "${CASES[@]}"; do
		local argv=($c)
		run_osmem "$MB_BIN/${argv[0]}" "${argv[@]:1}" --corrupt
		if [ "$status" != 3 ] || ! [[ $err == "${argv[0]}: content check failed: "* ]]; then
			echo "FAIL: $c --corrupt under osmem: status $status (expected 3)"
			echo "stdout: $out"
			echo "stderr: $err"
			return 1
		fi
	done
}
