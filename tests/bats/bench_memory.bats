#!/usr/bin/env bats
# make bench-memory's programs (tests/bench/memory.c, tests/bench/threads/
# shared-slots.c) and scripts/bench-memory at a tiny size: the memory
# program's result line and samples under osmem in both modes, its content
# check, shared-slots' content check, and the driver writing a well-formed
# table, CSV files and charts for glibc and osmem. Benchmarks are not tests:
# no timing and no memory figure is asserted.

load helpers

setup_file() {
	require_lib
	export MB_BUILD="$BATS_FILE_TMPDIR/build"
	make -C "$REPO" --no-print-directory BUILD="$MB_BUILD" bench-memory-progs \
		>"$BATS_FILE_TMPDIR/make.log" 2>&1 || { cat "$BATS_FILE_TMPDIR/make.log" >&2; return 1; }
}

fail_run() {
	echo "FAIL: $1: status $status"
	echo "stdout: $out"
	echo "stderr: $err"
	return 1
}

@test "memory: light and idle runs under osmem print their line and write their samples" {
	local d mode csv
	d=$(new_tmpdir samples)
	for mode in light idle; do
		csv="$d/$mode.csv"
		run_osmem "$MB_BUILD/bench/memory" "$mode" 1000 -k 10 -t 3 -m 4 -a 200 -i 20 -o "$csv"
		[ "$status" = 0 ] && [ -z "$err" ] &&
			[[ $out =~ ^memory\ mode=$mode\ size=1000\ keep=10\ threads=[13]\ blocks=4194\ kept=[1-9][0-9]*\ freed_at_ms=[0-9]+\ peak_kib=[1-9][0-9]*\ freed_kib=[1-9][0-9]*\ end_kib=[1-9][0-9]*\ check=ok$ ]] ||
			fail_run "memory $mode"
		[ "$(head -n 1 "$csv")" = "ms,rss_kib" ]
		# every line a sample; one before the frees, the first after them
		# within a tick (20 ms) of their end, and the last at +200 ms
		[ -z "$(tail -n +2 "$csv" | grep -Ev '^-?[0-9]+\.[0-9]{3},[1-9][0-9]*$')" ]
		tail -n +2 "$csv" | grep -q '^-'
		[[ $(tail -n +2 "$csv" | grep -v '^-' | head -n 1) =~ ^1?[0-9]\. ]]
		[[ $(tail -n 1 "$csv") =~ ^2[0-9][0-9]\. ]]
	done
}

@test "memory and shared-slots: a flipped byte is caught (status 3) and named" {
	run_osmem "$MB_BUILD/bench/memory" light 48 -m 1 -a 0 -c
	[ "$status" = 3 ] && [[ $err == "memory: content check failed: block "* ]] || fail_run "memory -c"
	run_osmem "$MB_BUILD/bench/memory" idle 48 -m 1 -a 0 -k 4 -c
	[ "$status" = 3 ] && [[ $err == "memory: content check failed: block "* ]] || fail_run "memory idle -c"
	run_osmem "$MB_BUILD/bench-threads/bin/shared-slots" 8 0.01
	[ "$status" = 0 ] && [ -z "$err" ] &&
		[[ $out =~ ^shared-slots\ threads=8\ ops=102400\ seconds=[0-9.]+\ ops_per_s=[0-9]+\ check=ok$ ]] ||
		fail_run "shared-slots 8 0.01"
	run_osmem "$MB_BUILD/bench-threads/bin/shared-slots" 8 0.01 --corrupt
	[ "$status" = 3 ] && [[ $err == "shared-slots: content check failed: block "* ]] ||
		fail_run "shared-slots --corrupt"
}

@test "scripts/bench-memory: a table row per case, the CSV files and a chart per case" {
	local d c
	d=$(new_tmpdir bench)
	run "$REPO/scripts/bench-memory" -n 1 --allocators glibc,osmem --mib 4 --times 0.05,0.1,0.2 --tick 10 \
		--threads 8 --scale 0.01 --only '1000B-*,many-threads' --build "$MB_BUILD" -o "$d"
	echo "$output"
	[ "$status" = 0 ]
	local cases=(1000B-free-light 1000B-free-idle 1000B-pinned-light 1000B-pinned-idle)
	local cell='[0-9]+ / [0-9.]+ / [0-9.]+ / [0-9.]+'
	grep -q '^#### Resident memory after a peak: peak MiB / RSS at +0.05 s, +0.1 s, +0.2 s as % of the peak' "$d/summary.md"
	[ "$(grep -c '^| case | glibc | osmem |$' "$d/summary.md")" = 2 ]
	[ "$(grep -Ec "^\| 1000 B, [^|]+ \| $cell \| $cell \|$" "$d/summary.md")" = 4 ]
	grep -Eq '^\| 8 threads, shared slots \| [0-9]+ / [0-9.]+ \| [0-9]+ / [0-9.]+ \|$' "$d/summary.md"
	for c in results runs samples; do     # the csv module ends its lines with CR LF
		tr -d '\r' <"$d/$c.csv" >"$d/$c.lf"
	done
	[ "$(head -n 1 "$d/results.lf")" = \
		"case,allocator,status,runs,peak_kib,rss_kib_0.05s,rss_kib_0.1s,rss_kib_0.2s,pct_0.05s,pct_0.1s,pct_0.2s,wall_s" ]
	for c in "${cases[@]}" many-threads; do
		[ "$(grep -c "^$c,[a-z]*,ok,1,[0-9]" "$d/results.lf")" = 2 ]
		[ "$(grep -c "^$c,[a-z]*,1,ok,[0-9]" "$d/runs.lf")" = 2 ]
	done
	for c in "${cases[@]}"; do
		grep -Eq "^$c,osmem,1,-?[0-9.]+,[0-9]+$" "$d/samples.lf"
		python3 -c 'import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])' "$d/chart-$c.svg"
		[ "$(grep -c '<polyline' "$d/chart-$c.svg")" = 2 ]
	done
	python3 -c 'import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])' "$d/summary.svg"
	[ -s "$d/many-threads/chart.svg" ] && [ -s "$d/many-threads/table.txt" ]
}

@test "scripts/bench-memory: --list names the 13 cases; an unknown case is a usage error" {
	run "$REPO/scripts/bench-memory" --list
	[ "$status" = 0 ]
	[ "${#lines[@]}" = 13 ]
	[[ ${lines[0]} == "48B-free-light "* ]] && [[ ${lines[12]} == "many-threads "* ]]
	run "$REPO/scripts/bench-memory" --only 48B-nothing --build "$MB_BUILD"
	[ "$status" = 2 ]
	[[ $output == *"no case matches 48B-nothing"* ]]
}
