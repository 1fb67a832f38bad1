#!/usr/bin/env bats
# The threaded benchmarks of make bench-threads (tests/bench/threads/*.c) and
# scripts/bench-threads at a tiny scale: each program passes its content
# checks under osmem at 2 and 4 threads, a flipped byte is caught, and the
# runner writes a table row per program and a chart per program. Benchmarks
# are not tests: no timing is asserted.

load helpers

PROGS=(larson prodcons malloc-thread mstress cache-scratch)
SCALE=0.01

setup_file() {
	require_lib
	export TB_BUILD="$BATS_FILE_TMPDIR/build"
	make -C "$REPO" --no-print-directory BUILD="$TB_BUILD" bench-threads-progs \
		>"$BATS_FILE_TMPDIR/make.log" 2>&1 || { cat "$BATS_FILE_TMPDIR/make.log" >&2; return 1; }
	export TB_BIN="$TB_BUILD/bench-threads/bin"
}

# run_prog NAME ARGS...: the program under osmem; sets $status, $out, $err.
run_prog() {
	run_osmem "$TB_BIN/$1" "${@:2}"
}

@test "each threaded benchmark passes its content checks under osmem at 2 and 4 threads" {
	local p t
	for p in "${PROGS[@]}"; do
		for t in 2 4; do
			run_prog "$p" "$t" "$SCALE"
			if [ "$status" != 0 ] || [ -n "$err" ] ||
				! [[ $out =~ ^$p\ threads=$t\ ops=[1-9][0-9]*\ seconds=[0-9.]+\ ops_per_s=[0-9]+\ check=ok$ ]]; then
				echo "FAIL: $p $t $SCALE under osmem: status $status"
				echo "stdout: $out"
				echo "stderr: $err"
				return 1
			fi
		done
	done
}

@test "each threaded benchmark detects a flipped byte (--corrupt) and names it" {
	local p
	for p in "${PROGS[@]}"; do
		run_prog "$p" 2 "$SCALE" --corrupt
		if [ "$status" != 3 ] || ! [[ $err == "$p: content check failed: block "* ]]; then
			echo "FAIL: $p 2 $SCALE --corrupt: status $status (expected 3)"
			echo "stdout: $out"
			echo "stderr: $err"
			return 1
		fi
	done
}

@test "scripts/bench-threads: a table row per program and thread count, and the charts" {
	local d
	d=$(new_tmpdir bench)
	run "$REPO/scripts/bench-threads" -n 1 --threads 1,2 --allocs glibc,osmem --scale "$SCALE" \
		--bindir "$TB_BIN" -o "$d"
	echo "$output"
	[ "$status" = 0 ]
	local p t
	for t in 1 2; do
		# the table of each thread count, from its heading to its geomean row
		sed -n "/^#### $t threads\{0,1\}:/,/^| geomean /p" "$d/summary.md" >"$d/table-$t"
		for p in "${PROGS[@]}"; do
			grep -Eq "^\| $p \| [0-9.e+]+ \| [0-9.]+ \| [0-9.]+ / [0-9.]+ \|$" "$d/table-$t" || {
				echo "FAIL: no ok row for $p in the $t-thread table:"
				cat "$d/table-$t"
				return 1
			}
		done
	done
	grep -q '^| osmem | [0-9.]* / [0-9.]* | [0-9.]* / [0-9.]* | [0-9.]* / [0-9.]* |$' "$d/summary.md"
	[ "$(grep -c ',ok,' "$d/runs.csv")" = 20 ]
	for p in "${PROGS[@]}" ; do
		python3 -c 'import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])' "$d/chart-$p.svg"
		grep -q '<polyline' "$d/chart-$p.svg"
	done
	[ -s "$d/summary.svg" ]
}
