# Shared helpers for the real-program tests (tests/bats/real_*.bats).
#
#   load helpers
#   setup_file() { require_lib; }
#
# REPO  the repository root
# LIB   the library under test, preloaded with LD_PRELOAD="$LIB"
#
# run_both [--status N] CMD...
#     Runs CMD plainly and then with LD_PRELOAD="$LIB"; fails unless both runs
#     exit with status N (default 0), print the same stdout, and the osmem run
#     prints no "osmem:" report (nor the loader's "cannot be preloaded") on
#     stderr. CMD may be a shell function; it runs in a subshell with set -e
#     -o pipefail, so a failing command or pipeline inside it fails the run.
#     Afterwards RUN_PLAIN_OUT / RUN_OSMEM_OUT name the two stdout files.
#
# assert_osmem_served [--prog NAME]... CMD...
#     Runs CMD under osmem with OSMEM_STATS and fails unless some process's
#     report counts allocations that osmem served. With --prog NAME, a process
#     whose name (argv[0] without directory) matches the glob NAME must be
#     among them, e.g. --prog cc1 --prog as --prog ld for gcc.
#
# osmem_served_progs FILE...
#     The programs whose OSMEM_STATS report in FILE... counts allocations.
#
# run_osmem CMD...
#     Runs CMD under LD_PRELOAD="$LIB" for 60 s at most, outside bats' run;
#     sets $status, $out (stdout) and $err (stderr).

REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
LIB="$REPO/libosmem.so"
export REPO LIB

# For setup_file (or setup): stop with a clear message when the library is
# missing or cannot be preloaded.
require_lib() {
	if [ ! -f "$LIB" ]; then
		echo "osmem library not found: $LIB" >&2
		echo "build it first with: make -C $REPO" >&2
		return 1
	fi
	local out
	if ! out=$(LD_PRELOAD="$LIB" /bin/true 2>&1) || [ -n "$out" ]; then
		echo "cannot preload $LIB (LD_PRELOAD=$LIB /bin/true):" >&2
		echo "$out" >&2
		return 1
	fi
}

# Skips the current test when a program is not installed.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c is not installed (scripts/install-deps installs it)"
	done
}

# A fresh directory inside the test's temporary directory.
new_tmpdir() {
	mktemp -d "${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}/${1:-tmp}.XXXXXX"
}

# Around a command whose status is examined afterwards. It must not run in a
# || list (where bash ignores set -e, also inside functions run by the command),
# so set -e and bats' ERR trap (which would pin the failure report to this
# line) are off meanwhile.
_quiet_errors_begin() {
	_SAVED_ERR_TRAP=$(trap -p ERR)
	trap - ERR
	set +e
}
_quiet_errors_end() {
	set -e
	eval "${_SAVED_ERR_TRAP:-trap - ERR}"
}

run_osmem() {
	local d
	d=$(new_tmpdir run)
	_quiet_errors_begin
	LD_PRELOAD="$LIB" timeout 60 "$@" >"$d/out" 2>"$d/err"
	status=$?
	_quiet_errors_end
	out=$(cat "$d/out")
	err=$(cat "$d/err")
}

_show_file() {   # label file: print at most 40 lines of a file, for failure reports
	echo "--- $1 ($2):"
	head -n 40 "$2"
	local n
	n=$(wc -l <"$2")
	[ "$n" -le 40 ] || echo "... ($n lines)"
}

run_both() {
	local want=0
	if [ "${1:-}" = "--status" ]; then
		want=$2
		shift 2
	fi
	local d
	d=$(new_tmpdir run_both)
	# shellcheck disable=SC2034  # for the callers
	RUN_PLAIN_OUT=$d/plain.out
	# shellcheck disable=SC2034
	RUN_OSMEM_OUT=$d/osmem.out

	local ps os
	_quiet_errors_begin
	( set -e -o pipefail; unset LD_PRELOAD; "$@" ) >"$d/plain.out" 2>"$d/plain.err"
	ps=$?
	( set -e -o pipefail; export LD_PRELOAD="$LIB"; "$@" ) >"$d/osmem.out" 2>"$d/osmem.err"
	os=$?
	_quiet_errors_end

	local fail=0
	if [ "$ps" != "$want" ]; then
		echo "FAIL: plain run of '$*' exited with status $ps, expected $want (test or environment problem)"
		_show_file "plain stderr" "$d/plain.err"
		fail=1
	fi
	if [ "$os" != "$ps" ]; then
		echo "FAIL: '$*' exited with status $os under osmem but $ps without it"
		_show_file "osmem stderr" "$d/osmem.err"
		_show_file "plain stderr" "$d/plain.err"
		fail=1
	fi
	if ! cmp -s "$d/plain.out" "$d/osmem.out"; then
		echo "FAIL: '$*' printed different stdout under osmem ($(wc -c <"$d/osmem.out") bytes) and without it ($(wc -c <"$d/plain.out") bytes)"
		echo "--- diff plain osmem (first 40 lines):"
		diff "$d/plain.out" "$d/osmem.out" | head -n 40
		[ "$fail" = 1 ] || _show_file "osmem stderr" "$d/osmem.err"
		fail=1
	fi
	if grep -q 'from LD_PRELOAD cannot be preloaded' "$d/osmem.err"; then
		echo "FAIL: the loader did not preload $LIB while running '$*':"
		grep 'from LD_PRELOAD cannot be preloaded' "$d/osmem.err" | head -n 3
		fail=1
	fi
	if grep -q '^osmem:' "$d/osmem.err" && ! grep -q '^osmem:' "$d/plain.err"; then
		echo "FAIL: osmem reported an error while running '$*':"
		grep '^osmem:' "$d/osmem.err" | head -n 20
		fail=1
	fi
	[ "$fail" = 0 ]
}

# osmem_served_progs FILE...: the names of the programs whose OSMEM_STATS
# report in FILE... counts at least one malloc, calloc or realloc, one a line.
# osmem writes one report per process that exits normally, opening with
#   osmem stats: pid 1234 (ls)
#     calls: malloc 118 calloc 3 ...
osmem_served_progs() {
	awk '
		/^osmem stats: pid [0-9]+ \(/ { prog = $0; sub(/^[^(]*\(/, "", prog); sub(/\)$/, "", prog) }
		/^  calls: / { if ($3 + $5 + $7 > 0) print prog }' "$@" 2>/dev/null | sort -u
}

assert_osmem_served() {
	local progs=()
	while [ "${1:-}" = "--prog" ]; do
		progs+=("$2")
		shift 2
	done
	local d
	d=$(new_tmpdir served)
	local st
	_quiet_errors_begin
	( set -e -o pipefail; export LD_PRELOAD="$LIB" OSMEM_STATS="$d/stats.%p"; "$@" ) \
		>"$d/out" 2>"$d/err"
	st=$?
	_quiet_errors_end

	local served
	served=$(osmem_served_progs "$d"/stats.*)

	if [ -z "$served" ]; then
		echo "FAIL: osmem did not serve '$*': no OSMEM_STATS report counting an allocation in $d (exit status $st)"
		ls "$d"
		_show_file "stderr" "$d/err"
		return 1
	fi
	local p s found
	for p in "${progs[@]}"; do
		found=0
		while IFS= read -r s; do
			# shellcheck disable=SC2053  # $p is a glob on purpose
			if [[ $s == $p ]]; then found=1; fi
		done <<<"$served"
		if [ "$found" = 0 ]; then
			echo "FAIL: osmem served '$*', but not $p (exit status $st); served:"
			printf '%s\n' "$served" | sed 's/^/  /'
			return 1
		fi
	done
}
