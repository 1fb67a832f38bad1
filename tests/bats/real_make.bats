#!/usr/bin/env bats
# make -j2 on osmem: a small generated C project built with make (and through it
# gcc, cc1, as, ld) under LD_PRELOAD=libosmem.so must build the same objects and
# program as a plain build.

load helpers

N_UNITS=24

setup_file() {
	require_lib
	command -v make >/dev/null || { echo "make is not installed" >&2; return 1; }
	command -v gcc >/dev/null || { echo "gcc is not installed" >&2; return 1; }
	local p=$BATS_FILE_TMPDIR/project i
	mkdir -p "$p/src" "$p/include"
	for i in $(seq 0 $((N_UNITS - 1))); do
		cat >"$p/src/unit$i.c" <<EOF
#include <stdlib.h>
#include "units.h"
#include "config.h"
long unit$i(long x)
{
	long *buf = malloc(sizeof *buf * (size_t)(SCALE + $i));
	long acc = 0;
	for (long k = 0; k < SCALE + $i; k++) buf[k] = (x + k) * $((i + 1)) % 1009;
	for (long k = 0; k < SCALE + $i; k++) acc += buf[k];
	free(buf);
	return acc;
}
EOF
	done
	cat >"$p/src/main.c" <<'EOF'
#include <stdio.h>
#include "units.h"
int main(void)
{
	long total = 0;
	for (int i = 0; i < N_UNITS; i++) {
		long v = units[i](i);
		printf("%s %ld\n", unit_names[i], v);
		total += v;
	}
	printf("total %ld\n", total);
	return 0;
}
EOF
	cat >"$p/Makefile" <<'EOF'
# Generated: units.h and config.h are made by rules; objects by a pattern rule.
CC      := gcc
CFLAGS  := -O2 -Wall -Werror -Iinclude -Ibuild
SRCS    := $(sort $(wildcard src/*.c))
UNITS   := $(patsubst src/%.c,%,$(filter src/unit%.c,$(SRCS)))
OBJS    := $(SRCS:src/%.c=build/%.o)

all: build/prog

build/config.h: Makefile | build
	echo '#define SCALE 1000' >$@

build/units.h: Makefile | build
	{ $(foreach u,$(UNITS),echo 'long $(u)(long);';) \
	  echo 'static long (*const units[])(long) = { $(foreach u,$(UNITS),$(u),) };'; \
	  echo 'static const char *const unit_names[] = { $(foreach u,$(UNITS),"$(u)",) };'; \
	  echo '#define N_UNITS $(words $(UNITS))'; } >$@

build/%.o: src/%.c build/units.h build/config.h | build
	$(CC) $(CFLAGS) -c -o $@ $<

build/prog: $(OBJS)
	$(CC) -o $@ $^

build:
	mkdir -p $@

clean:
	rm -rf build

.PHONY: all clean
EOF
}

# Copies the project to a fresh directory, builds it with make -j2 and prints
# the program's output and the checksums of what was built.
build_project() {
	local dir
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/build.XXXXXX")
	cp -r "$BATS_FILE_TMPDIR/project/." "$dir"
	make -C "$dir" -j2 -s
	make -C "$dir" -q all   # up to date now: make -q exits 0
	"$dir/build/prog"
	(cd "$dir/build" && sha256sum units.h config.h ./*.o prog)
	make -C "$dir" -s clean
	make -C "$dir" -j2 -s all
	"$dir/build/prog" | tail -n 1
	echo "$dir" >"$BATS_TEST_TMPDIR/last-build"
}

@test "make -j2 builds a generated $N_UNITS-unit C project identically under osmem" {
	run_both build_project
	grep -q '^total [0-9]' "$RUN_OSMEM_OUT" || { echo "the program built under osmem printed no total:"; head "$RUN_OSMEM_OUT"; false; }
	[ "$(grep -c '^unit[0-9]* ' "$RUN_OSMEM_OUT")" -eq "$N_UNITS" ] || { echo "expected $N_UNITS unit lines"; cat "$RUN_OSMEM_OUT"; false; }
	local dir
	dir=$(cat "$BATS_TEST_TMPDIR/last-build")
	assert_osmem_served --prog make --prog cc1 --prog as --prog ld make -C "$dir" -j2 -s -B
}
