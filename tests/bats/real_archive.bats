#!/usr/bin/env bats
# tar and multi-threaded xz on osmem: a directory tree packed, listed and
# unpacked under LD_PRELOAD=libosmem.so must match the plain run byte for byte.

load helpers

setup_file() {
	require_lib
	local src=$BATS_FILE_TMPDIR/src
	mkdir -p "$src/generated/empty" "$src/headers"
	cp -a /usr/include/linux /usr/include/c++ "$src/headers/"
	awk 'BEGIN { srand(3); for (i = 0; i < 120000; i++) printf "%d %x %s\n", i, int(rand() * 2^31), (rand() < 0.5 ? "even" : "odd") }' \
		>"$src/generated/numbers.txt"
	head -c 3000000 /dev/zero >"$src/generated/zeros.bin"
	ln -s ../generated/numbers.txt "$src/headers/link-to-numbers"
}

# Deterministic archive of the tree (or of its subdirectory $1) on stdout:
# fixed order, owner and times.
pack() {
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C "$BATS_FILE_TMPDIR/src/${1:-.}" . |
		xz -T2 -1 --block-size=1MiB
}

@test "tar | xz -T2 packs a tree into the same bytes under osmem" {
	run_both pack
	local size
	size=$(stat -c %s "$RUN_PLAIN_OUT")
	[ "$size" -gt 100000 ] || { echo "archive is only $size bytes"; false; }
	xz -t "$RUN_OSMEM_OUT" || { echo "the archive made under osmem does not pass xz -t"; false; }
	assert_osmem_served --prog tar --prog xz pack generated
}

@test "xz -T2 -d | tar -t and tar -x under osmem list and restore the tree exactly" {
	pack >"$BATS_TEST_TMPDIR/tree.tar.xz"
	run_both bash -c 'set -o pipefail; xz -T2 -dc "$1" | tar -tvf -' list "$BATS_TEST_TMPDIR/tree.tar.xz"
	[ "$(wc -l <"$RUN_PLAIN_OUT")" -gt 1000 ] || { echo "archive lists too few entries"; false; }

	local out=$BATS_TEST_TMPDIR/out
	mkdir "$out"
	LD_PRELOAD="$LIB" bash -c 'set -o pipefail; xz -T2 -dc "$1" | tar -xf - -C "$2"' unpack "$BATS_TEST_TMPDIR/tree.tar.xz" "$out" ||
		{ echo "unpacking under osmem failed"; false; }
	diff -r --no-dereference "$BATS_FILE_TMPDIR/src" "$out" >"$BATS_TEST_TMPDIR/diff" ||
		{ echo "tree unpacked under osmem differs from the original:"; head -n 40 "$BATS_TEST_TMPDIR/diff"; false; }
	assert_osmem_served --prog xz --prog tar bash -c 'set -o pipefail; xz -T2 -dc "$1" | tar -tf - >/dev/null' list "$BATS_TEST_TMPDIR/tree.tar.xz"
}
