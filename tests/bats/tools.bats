#!/usr/bin/env bats
# scripts/osmem-run, the exported-symbol list, and scripts/summary-svg (the
# README's chart).

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	require_lib
}

@test "osmem-run runs a program with libosmem.so preloaded, and its children too" {
	run "$REPO/scripts/osmem-run" /usr/bin/python3 -c 'import subprocess; print(open("/proc/self/maps").read().count("libosmem.so") > 0, subprocess.run(["grep", "-c", "libosmem.so", "/proc/self/maps"], capture_output=True, text=True).stdout.strip() != "0")'
	[ "$status" -eq 0 ]
	[ "$output" = "True True" ]
}

@test "osmem-run keeps an LD_PRELOAD that was already set, after osmem" {
	run env LD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6 "$REPO/scripts/osmem-run" sh -c 'echo "$LD_PRELOAD"'
	[ "$status" -eq 0 ]
	[ "$output" = "$LIB:/lib/x86_64-linux-gnu/libm.so.6" ]
}

@test "osmem-run without a command prints its usage and fails" {
	run "$REPO/scripts/osmem-run"
	[ "$status" -eq 2 ]
	grep -q '^usage: osmem-run CMD' <<<"$output"
}

@test "osmem-run with a missing library says so and fails" {
	run -127 env OSMEM_LIB=/nonexistent/libosmem.so "$REPO/scripts/osmem-run" true
	[ "$status" -eq 127 ]
	grep -q 'not found' <<<"$output"
}

@test "the library exports exactly SPEC rule 23's list, and the check catches an extra symbol" {
	run "$REPO/tests/check-exports" "$LIB"
	[ "$status" -eq 0 ]
	# A library with one more export must fail the same check.
	printf 'int extra_symbol(void){return 0;}\n' >"$BATS_TEST_TMPDIR/x.c"
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/libx.so" "$BATS_TEST_TMPDIR/x.c"
	run "$REPO/tests/check-exports" "$BATS_TEST_TMPDIR/libx.so"
	[ "$status" -eq 1 ]
}

@test "doc/headline.svg is what scripts/summary-svg draws from doc/headline.csv, and a changed figure changes it" {
	local title d=$BATS_TEST_TMPDIR
	title=$(sed -n 's|^<text x="60" y="24" font-size="15" font-weight="bold">\(.*\)</text>$|\1|p' "$REPO/doc/headline.svg")
	[ -n "$title" ] || { echo "no title in doc/headline.svg"; false; }
	run "$REPO/scripts/summary-svg" --title "$title" "$REPO/doc/headline.csv" "$d/headline.svg"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	cmp "$REPO/doc/headline.svg" "$d/headline.svg" || { echo "doc/headline.svg is stale: make headline"; false; }
	# osmem's wall time over all rows, whatever the run gave, becomes 0.91.
	sed -E 's/^(all,osmem,[0-9]+,[0-9]+,)[0-9.]+,/\10.91,/' "$REPO/doc/headline.csv" >"$d/changed.csv"
	"$REPO/scripts/summary-svg" --title "$title" "$d/changed.csv" "$d/changed.svg"
	! cmp -s "$d/headline.svg" "$d/changed.svg"
	grep -q '>0.91<' "$d/changed.svg"
	run "$REPO/scripts/summary-svg" --group nothing "$REPO/doc/headline.csv" "$d/none.svg"
	[ "$status" -eq 2 ]
	[[ "$output" == *"no rows of group 'nothing'"* ]]
}
