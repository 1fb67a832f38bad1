#!/usr/bin/env bats
# make install, make uninstall and make deb, each into a temporary directory
# (never the machine's own /usr): the installed tree, the wrapper and a
# program linked with pkg-config's flags, each proven served by osmem; the
# man pages; the package's contents, metadata, lintian and a dpkg root.

load helpers
bats_require_minimum_version 1.5.0

# make in the repository, without the make (if any) that runs bats: its
# jobserver is not ours.
repo_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$REPO" --no-print-directory "$@"
}

setup_file() {
	require_lib
	export STAGE=$BATS_FILE_TMPDIR/stage
	repo_make install DESTDIR="$STAGE" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&2; return 1; }
	export PREFIX_DIR=$STAGE/usr/local
	# One program for every link-time test: it includes both installed headers,
	# calls the core and the malloc family, and prints what only osmem gives:
	# malloc(1) and strdup (the C library's own call to malloc) have a usable
	# size of 16 (osmem's smallest class; glibc gives 24), and a header at p - 32.
	cat >"$BATS_FILE_TMPDIR/linked.c" <<-'EOF'
		#include <malloc.h>
		#include <stdio.h>
		#include <stdlib.h>
		#include <string.h>
		#include <osmem.h>
		#include <block_meta.h>

		int main(void)
		{
			char *p = malloc(1), *s = strdup("x");
			void *q = os_malloc(100);
			const struct block_meta *m = (const struct block_meta *)q - 1;

			printf("malloc %zu strdup %zu os_malloc %zu %d\n", malloc_usable_size(p),
			       malloc_usable_size(s), m->size, m->status);
			os_free(q);
			free(s);
			free(p);
			return 0;
		}
	EOF
}

# Runs CMD... with OSMEM_STATS writing into a fresh directory; fails unless
# the program named PROG reports allocations that osmem served.
# served_as PROG CMD...
served_as() {
	local prog=$1
	shift
	local d
	d=$(new_tmpdir stats)
	OSMEM_STATS="$d/st.%p" "$@" >"$d/out" 2>"$d/err" || { cat "$d/err"; return 1; }
	local served
	served=$(osmem_served_progs "$d"/st.*)
	grep -qx "$prog" <<<"$served" || {
		echo "FAIL: osmem did not serve $prog in '$*'; served: ${served:-nothing}"
		cat "$d/err"
		return 1
	}
}

# Compiles linked.c with pkg-config's flags from a tree installed under ROOT
# (pc files in PCDIR), into OUT, and checks that it asks the loader for
# libosmem.so.1 before the C library.
# link_with_pkg_config ROOT PCDIR OUT
link_with_pkg_config() {
	local flags
	flags=$(PKG_CONFIG_PATH=$2 PKG_CONFIG_SYSROOT_DIR=$1 pkg-config --cflags --libs osmem)
	# shellcheck disable=SC2086  # the flags are words
	cc -o "$3" "$BATS_FILE_TMPDIR/linked.c" $flags
	local needed
	needed=$(readelf -d "$3" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
	[ "$needed" = "libosmem.so.1 libc.so.6 " ] || { echo "NEEDED: $needed"; false; }
}

# Runs a program built by link_with_pkg_config, its library in LIBDIR and no
# LD_PRELOAD: osmem must serve it, and its output must be osmem's.
# run_linked LIBDIR EXE
run_linked() {
	run env -u LD_PRELOAD LD_LIBRARY_PATH="$1" "$2"
	[ "$status" -eq 0 ]
	[ "$output" = "malloc 16 strdup 16 os_malloc 104 1" ]
	served_as "$(basename "$2")" env -u LD_PRELOAD LD_LIBRARY_PATH="$1" "$2"
	# The loader takes the installed library, not the build tree's.
	run env -u LD_PRELOAD LD_LIBRARY_PATH="$1" ldd "$2"
	grep -q "libosmem.so.1 => $1/libosmem.so.1 " <<<"$output"
}

@test "make install puts the library (soname libosmem.so.1), headers, osmem.pc, tools and man pages under DESTDIR/PREFIX" {
	local p=$PREFIX_DIR
	[ -f "$p/lib/libosmem.so.1.0.0" ] && [ ! -L "$p/lib/libosmem.so.1.0.0" ]
	[ "$(readlink "$p/lib/libosmem.so.1")" = libosmem.so.1.0.0 ]
	[ "$(readlink "$p/lib/libosmem.so")" = libosmem.so.1 ]
	readelf -d "$p/lib/libosmem.so.1.0.0" | grep -q 'Library soname: \[libosmem.so.1\]'
	cmp "$REPO/include/osmem.h" "$p/include/osmem/osmem.h"
	cmp "$REPO/include/block_meta.h" "$p/include/osmem/block_meta.h"
	local t
	for t in osmem-run osmem-plot osmem-compare; do [ -x "$p/bin/$t" ]; done
	for t in man1/osmem-run.1 man1/osmem-plot.1 man1/osmem-compare.1 man3/osmem.3; do [ -f "$p/share/man/$t" ]; done
	# pkg-config's answer, with the staging directory as a sysroot.
	run env PKG_CONFIG_PATH="$p/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$STAGE" pkg-config --cflags --libs osmem
	[ "${output% }" = "-I$p/include/osmem -L$p/lib -losmem" ]
	run env PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --modversion osmem
	[ "$output" = 1.0.0 ]
	# The tree records no trace of DESTDIR.
	run grep -rl "$STAGE" "$STAGE"
	[ "$status" -eq 1 ]
}

@test "the installed osmem-run preloads the installed library, found from its own directory, and osmem serves the program" {
	run env -u OSMEM_LIB "$PREFIX_DIR/bin/osmem-run" sh -c 'echo "$LD_PRELOAD"'
	[ "$status" -eq 0 ]
	[ "$output" = "$PREFIX_DIR/bin/../lib/libosmem.so.1" ]
	served_as ls env -u OSMEM_LIB "$PREFIX_DIR/bin/osmem-run" ls -l /usr/share
	# The file the loader mapped is the installed one.
	run env -u OSMEM_LIB "$PREFIX_DIR/bin/osmem-run" grep -o '/[^ ]*libosmem[^ ]*' /proc/self/maps
	[ "$(sort -u <<<"$output")" = "$PREFIX_DIR/lib/libosmem.so.1.0.0" ]
}

@test "an install under other PREFIX, LIBDIR and BINDIR works after the staged tree is moved elsewhere" {
	local d
	d=$(new_tmpdir moved)
	repo_make install DESTDIR="$d/a" PREFIX=/opt/osmem LIBDIR=/opt/osmem/lib/deep/x BINDIR=/opt/osmem/sbin \
		MANDIR=/opt/osmem/man >/dev/null
	[ -f "$d/a/opt/osmem/lib/deep/x/libosmem.so.1.0.0" ] && [ -f "$d/a/opt/osmem/man/man3/osmem.3" ]
	mv "$d/a" "$d/b"
	served_as ls env -u OSMEM_LIB "$d/b/opt/osmem/sbin/osmem-run" ls /
	run env -u OSMEM_LIB "$d/b/opt/osmem/sbin/osmem-run" sh -c 'echo "$LD_PRELOAD"'
	[ "$output" = "$d/b/opt/osmem/sbin/../lib/deep/x/libosmem.so.1" ]
}

@test "the installed osmem-compare runs a command on the installed library" {
	require_cmd /usr/bin/time
	local o=$BATS_TEST_TMPDIR/cmp
	run env -u OSMEM_LIB "$PREFIX_DIR/bin/osmem-compare" -q -n 1 --allocators osmem -o "$o" -- \
		grep -o '/[^ ]*libosmem[^ ]*' /proc/self/maps
	[ "$status" -eq 0 ]
	[ "$(sort -u "$o/runs/osmem-1.out")" = "$PREFIX_DIR/lib/libosmem.so.1.0.0" ]
}

@test "a program linked with pkg-config --cflags --libs osmem runs on osmem without LD_PRELOAD" {
	link_with_pkg_config "$STAGE" "$PREFIX_DIR/lib/pkgconfig" "$BATS_TEST_TMPDIR/linked"
	run_linked "$PREFIX_DIR/lib" "$BATS_TEST_TMPDIR/linked"
	# The same program built without osmem says what glibc gives, so the test can fail.
	cc -o "$BATS_TEST_TMPDIR/plain" -x c - <<<'#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) { printf("%zu\n", malloc_usable_size(malloc(1))); return 0; }'
	run env -u LD_PRELOAD "$BATS_TEST_TMPDIR/plain"
	[ "$output" != 16 ]
}

@test "dlopen of the installed library with glibc's defaults: os_malloc and os_free work, and the process keeps glibc's malloc" {
	cat >"$BATS_TEST_TMPDIR/dl.c" <<-'EOF'
		#include <dlfcn.h>
		#include <malloc.h>
		#include <stdio.h>
		#include <stdlib.h>
		#include <string.h>
		#include <block_meta.h>

		int main(int argc, char **argv)
		{
			void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
			void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
			void *(*om)(size_t);
			void (*of)(void *);
			struct block_meta *m;
			char *p;

			if (!h || !libc) {
				printf("dlopen: %s\n", h ? "libc.so.6 not loaded" : dlerror());
				return 1;
			}
			*(void **)&om = dlsym(h, "os_malloc");
			*(void **)&of = dlsym(h, "os_free");
			if (!om || !of || !(p = om(100)))
				return 2;
			memset(p, 7, 100);
			m = (struct block_meta *)p - 1;
			printf("%s %zu\n", m->status == STATUS_ALLOC ? "alloc" : "bad", m->size);
			of(p);
			/* The library's malloc is there, but the process's stays glibc's. */
			printf("own malloc %s, process malloc %s, usable(malloc(1)) %zu\n",
			       dlsym(h, "malloc") ? "exported" : "missing",
			       dlsym(RTLD_DEFAULT, "malloc") == dlsym(libc, "malloc") ? "glibc's" : "another",
			       malloc_usable_size(malloc(1)));
			return 0;
		}
	EOF
	cc -I"$PREFIX_DIR/include/osmem" -o "$BATS_TEST_TMPDIR/dl" "$BATS_TEST_TMPDIR/dl.c" -ldl
	run env -u LD_PRELOAD -u GLIBC_TUNABLES "$BATS_TEST_TMPDIR/dl" "$PREFIX_DIR/lib/libosmem.so.1"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# osmem's malloc(1) holds 16 bytes, glibc's 24.
	[ "$output" = "alloc 104
own malloc exported, process malloc glibc's, usable(malloc(1)) 24" ] || { echo "got: $output"; false; }
}

@test "python3's ctypes loads the built and the installed library, and os_malloc/os_free work through it" {
	local lib
	for lib in "$REPO/libosmem.so" "$PREFIX_DIR/lib/libosmem.so.1"; do
		run env -u LD_PRELOAD -u GLIBC_TUNABLES python3 -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.os_malloc.restype = ctypes.c_void_p
lib.os_malloc.argtypes = [ctypes.c_size_t]
lib.os_free.argtypes = [ctypes.c_void_p]
p = lib.os_malloc(4000)
ctypes.memset(p, 0x5a, 4000)
q = lib.os_malloc(100)
assert q and not (p <= q < p + 4000)
print(ctypes.string_at(p + 3990, 3), ctypes.sizeof(ctypes.c_void_p))
lib.os_free(p)
lib.os_free(q)
' "$lib"
		[ "$status" -eq 0 ] || { echo "$lib: $output"; false; }
		[ "$output" = "b'ZZZ' 8" ] || { echo "$lib: got $output"; false; }
	done
}

@test "the man pages render with groff -ww and man -l without a warning" {
	local f out
	export LC_ALL=C.UTF-8   # a locale every machine has: man warns of a missing one
	for f in "$PREFIX_DIR"/share/man/man1/*.1 "$PREFIX_DIR"/share/man/man3/*.3; do
		out=$(groff -ww -man -Tutf8 -z "$f" 2>&1)
		[ -z "$out" ] || { echo "groff -ww $f:"; echo "$out"; false; }
		out=$(MANPAGER=cat MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
		[ -z "$out" ] || { echo "man -l $f:"; echo "$out"; false; }
	done
	# osmem(3) documents every variable of README's table, and the glibc ones.
	local v page
	page=$(MANPAGER=cat MANWIDTH=200 man -l "$PREFIX_DIR/share/man/man3/osmem.3" 2>/dev/null)
	for v in $(grep -o '^| `OSMEM_[A-Z_]*`' "$REPO/README.md" | tr -d '|` ') MALLOC_ARENA_MAX MALLOC_MMAP_THRESHOLD_; do
		grep -q "$v" <<<"$page" || { echo "osmem(3) does not mention $v"; false; }
	done
}

@test "make uninstall removes every file and link make install put there" {
	local d
	d=$(new_tmpdir uninstall)
	repo_make install DESTDIR="$d" >/dev/null
	[ -n "$(find "$d" ! -type d)" ]
	repo_make uninstall DESTDIR="$d" >/dev/null
	run find "$d" ! -type d
	[ -z "$output" ] || { echo "left behind:"; echo "$output"; false; }
	[ ! -e "$d/usr/local/include/osmem" ]
}

# The package, built once for the tests below.
build_deb() {
	[ -f "$BATS_FILE_TMPDIR/deb/built" ] && return 0
	require_cmd dpkg-deb dpkg-shlibdeps
	repo_make deb DEBDIR="$BATS_FILE_TMPDIR/deb" >"$BATS_FILE_TMPDIR/deb.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/deb.log"; return 1; }
	DEB=$(echo "$BATS_FILE_TMPDIR"/deb/osmem_*.deb)
	[ -f "$DEB" ]
	echo "$DEB" >"$BATS_FILE_TMPDIR/deb/built"
}

@test "make deb: the package's files, paths and metadata" {
	build_deb
	local deb arch ma
	deb=$(cat "$BATS_FILE_TMPDIR/deb/built")
	arch=$(dpkg --print-architecture)
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	[ "$(basename "$deb")" = "osmem_1.0.0-1_$arch.deb" ]
	run dpkg-deb -f "$deb" Package Version Architecture Depends
	[ "$status" -eq 0 ]
	grep -qx 'Package: osmem' <<<"$output"
	grep -qx 'Version: 1.0.0-1' <<<"$output"
	grep -qx "Architecture: $arch" <<<"$output"
	# Depends from dpkg-shlibdeps: the C library, at a version.
	grep -qE '^Depends: libc6 \(>= 2\.[0-9]+\), python3$' <<<"$output"
	run dpkg-deb -I "$deb"
	local f
	for f in control md5sums shlibs symbols triggers; do
		grep -qE "^ +[0-9]+ bytes, +[0-9]+ lines +$f" <<<"$output" || { echo "no $f in:"; echo "$output"; false; }
	done
	local x=$BATS_TEST_TMPDIR/ctl
	dpkg-deb -e "$deb" "$x"
	[ "$(cat "$x/shlibs")" = "libosmem 1 osmem (>= 1.0.0)" ]
	# The symbols file lists exactly the exports (tests/check-exports' list).
	local want got
	want=$(sed -n 's/^want="\(.*\)"$/\1/p' "$REPO/tests/check-exports" | tr ' ' '\n' | sort)
	got=$(sed -n 's/^ \([a-z_0-9]*\)@Base 1\.0\.0$/\1/p' "$x/symbols" | sort)
	[ -n "$want" ] && [ "$got" = "$want" ] || { echo "symbols: $got"; echo "exports: $want"; false; }
	# Every file in its Debian path, nothing else.
	dpkg-deb -c "$deb" | awk '{ p = $6; if ($1 ~ /^l/) p = p " -> " $8; print p }' | grep -v '/$' | sort >"$x/got"
	sort >"$x/want" <<-EOF
		./usr/bin/osmem-compare
		./usr/bin/osmem-plot
		./usr/bin/osmem-run
		./usr/include/osmem/block_meta.h
		./usr/include/osmem/osmem.h
		./usr/lib/$ma/libosmem.so -> libosmem.so.1
		./usr/lib/$ma/libosmem.so.1 -> libosmem.so.1.0.0
		./usr/lib/$ma/libosmem.so.1.0.0
		./usr/lib/$ma/pkgconfig/osmem.pc
		./usr/share/doc/osmem/README.md.gz
		./usr/share/doc/osmem/changelog.Debian.gz
		./usr/share/doc/osmem/copyright
		./usr/share/lintian/overrides/osmem
		./usr/share/man/man1/osmem-compare.1.gz
		./usr/share/man/man1/osmem-plot.1.gz
		./usr/share/man/man1/osmem-run.1.gz
		./usr/share/man/man3/osmem.3.gz
	EOF
	diff "$x/want" "$x/got"
	# Owned by root, as dpkg-deb --root-owner-group makes it.
	run sh -c "dpkg-deb -c '$deb' | awk '\$2 != \"root/root\"'"
	[ -z "$output" ]
}

@test "make deb: lintian reports nothing beyond the overrides the README explains" {
	require_cmd lintian
	build_deb
	local deb
	deb=$(cat "$BATS_FILE_TMPDIR/deb/built")
	run lintian -I -E --pedantic "$deb"
	[ "$status" -eq 0 ]
	local tags
	tags=$(grep -v 'running with root privileges is not recommended' <<<"$output" || true)
	[ -z "$tags" ] || { echo "$tags"; false; }
	# Each override is explained in the README's Install section.
	local t
	for t in $(sed -n 's/^osmem: \([a-z0-9-]*\).*/\1/p' "$REPO/scripts/deb/lintian-overrides"); do
		grep -q "\`$t\`" "$REPO/README.md" || { echo "README does not explain $t"; false; }
	done
}

@test "the .deb installs into a temporary dpkg root, works there, and removes cleanly" {
	[ "$(id -u)" -eq 0 ] || skip "dpkg --root needs root"
	build_deb
	local deb r ma host_status
	deb=$(cat "$BATS_FILE_TMPDIR/deb/built")
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	host_status=$(md5sum </var/lib/dpkg/status)
	r=$(new_tmpdir root)
	mkdir -p "$r"/var/lib/dpkg/{info,updates,triggers}
	touch "$r"/var/lib/dpkg/{status,available}
	# The root holds no libc6 or python3 package: only those two may be missing.
	run dpkg --root="$r" --log=/dev/null --force-depends -i "$deb"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run dpkg --root="$r" -s osmem
	grep -qx 'Status: install ok installed' <<<"$output"
	# The installed wrapper and pkg-config file work from there.
	run env -u OSMEM_LIB "$r/usr/bin/osmem-run" sh -c 'echo "$LD_PRELOAD"'
	[ "$output" = "$r/usr/bin/../lib/$ma/libosmem.so.1" ]
	served_as ls env -u OSMEM_LIB "$r/usr/bin/osmem-run" ls /usr/share
	link_with_pkg_config "$r" "$r/usr/lib/$ma/pkgconfig" "$BATS_TEST_TMPDIR/linked"
	run_linked "$r/usr/lib/$ma" "$BATS_TEST_TMPDIR/linked"
	run dpkg --root="$r" --log=/dev/null --purge osmem
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# Nothing is left but dpkg's own database.
	run find "$r" ! -type d ! -path "$r/var/lib/dpkg/*"
	[ -z "$output" ] || { echo "left behind:"; echo "$output"; false; }
	[ ! -e "$r/usr" ]
	[ "$(md5sum </var/lib/dpkg/status)" = "$host_status" ]
}
