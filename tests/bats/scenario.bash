# Shared by the bats files that run single-scenario programs
# (tests/scenario/*.c) under LD_PRELOAD=libosmem.so: scenarios.bats and
# hardening.bats.
#
#   load scenario
#   setup_file() { scn_setup NAME...; }     (NAME: tests/scenario/NAME.c)
#
# REPO     the repository root
# SCN_BIN  where the programs are built, NAME and NAME.cc.log each

# Builds the library if it is missing and compiles each program once; a
# failure to compile fails that program's tests only (run_scn says why).
scn_setup() {
	REPO="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
	export REPO
	export SCN_BIN="$BATS_FILE_TMPDIR/bin"
	mkdir -p "$SCN_BIN"
	if [ ! -f "$REPO/libosmem.so" ]; then
		make -C "$REPO" libosmem.so >"$BATS_FILE_TMPDIR/make.log" 2>&1 || true
	fi
	local name
	for name in "$@"; do
		cc -O1 -g -pthread -o "$SCN_BIN/$name" "$REPO/tests/scenario/$name.c" -ldl \
			>"$SCN_BIN/$name.cc.log" 2>&1 || rm -f "$SCN_BIN/$name"
	done
}

# run_scn [VAR=value ...] NAME [ARGS...]
# Runs the program NAME under LD_PRELOAD=libosmem.so (no core dumps, a time
# limit of SCN_TIMEOUT seconds, default 60). Sets $status, $out (stdout),
# $err (stderr) and $err_lines (number of lines on stderr).
run_scn() {
	local envs=() name
	while [[ $# -gt 0 && "$1" == *=* ]]; do
		envs+=("$1")
		shift
	done
	name="$1"
	shift
	[ -f "$REPO/libosmem.so" ] || { echo "libosmem.so is not built (make)"; cat "$BATS_FILE_TMPDIR/make.log" 2>/dev/null; return 1; }
	[ -x "$SCN_BIN/$name" ] || { echo "tests/scenario/$name.c did not compile:"; cat "$SCN_BIN/$name.cc.log"; return 1; }
	local o="$BATS_TEST_TMPDIR/stdout" e="$BATS_TEST_TMPDIR/stderr"
	status=0
	(
		ulimit -c 0
		exec timeout -s KILL "${SCN_TIMEOUT:-60}" env "${envs[@]}" LD_PRELOAD="$REPO/libosmem.so" \
			"$SCN_BIN/$name" "$@"
	) >"$o" 2>"$e" || status=$?
	out="$(cat "$o")"
	err="$(cat "$e")"
	err_lines=$(wc -l <"$e")
	# Shown by bats when the test fails.
	echo "# ${envs[*]} $name $*: exit status $status"
	echo "# stdout:"
	sed 's/^/#   /' "$o"
	echo "# stderr:"
	sed 's/^/#   /' "$e"
}
