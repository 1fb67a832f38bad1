# osmem: `make` builds ./libosmem.so; `make check` runs every test tier;
# `make demo` runs real programs on osmem beside glibc. `make DEBUG=1` builds
# the checked library (the heap checker runs inside every os_* call).

CC      ?= cc
DEBUG   ?= 0
PYTHON  ?= python3
BUILD   ?= build
# Where the library goes (a test builds a variant elsewhere).
LIBOUT  ?= libosmem.so
# The soname's number: raised only when the ABI changes. VERSION names the file
# that make install and the .deb ship (libosmem.so.VERSION).
SOVERSION := 1
VERSION   ?= 1.0.0

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT     := $(if $(filter 1,$(DEBUG)),-O1,-O2)
# -fno-builtin: gcc would otherwise turn malloc+memset inside calloc into a call to calloc.
LIBCFLAGS := -std=gnu11 -g $(OPT) $(WARN) -fPIC -fvisibility=hidden -fno-builtin \
	-fno-plt -Iinclude -Isrc -DOSMEM_DEBUG=$(DEBUG) $(CFLAGS)
LDLIBS_SO := -lpthread -ldl
# relro + now: the GOT is read-only once loaded (-fno-plt binds every call at load anyway).
SO_LDFLAGS := -shared -Wl,-z,defs -Wl,-z,relro -Wl,-z,now -Wl,-soname,libosmem.so.$(SOVERSION)

# Backtraces for OSMEM_TRACE/OSMEM_LEAKS from libunwind, dlopen'ed at run time
# when a switch needs stacks (make UNWIND=0: never).
UNWIND ?= 1
ifeq ($(UNWIND),1)
LIBCFLAGS += -DOSMEM_LIBUNWIND
endif

CORE_SRC      := $(sort $(wildcard src/*.c))
INTERPOSE_SRC := $(sort $(wildcard interpose/*.c))
CORE_OBJ      := $(CORE_SRC:%.c=$(BUILD)/%.o)
INTERPOSE_OBJ := $(INTERPOSE_SRC:%.c=$(BUILD)/%.o)

.PHONY: all check check-tiers deps unit unit-asan unit-debug unit-tsan trace exports bats demo bench bench-scale \
	bench-threads bench-threads-progs bench-memory bench-memory-progs harden-table headline clean FORCE
.PHONY: install uninstall deb

all: $(LIBOUT) $(LIBOUT).$(SOVERSION)

# Rebuild everything when the flags change (DEBUG=1 and back, a new soname).
$(BUILD)/cflags: FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(LIBCFLAGS) $(SO_LDFLAGS)' | cmp -s - $@ || echo '$(CC) $(LIBCFLAGS) $(SO_LDFLAGS)' > $@

$(BUILD)/%.o: %.c $(BUILD)/cflags
	@mkdir -p $(dir $@)
	$(CC) $(LIBCFLAGS) -MMD -MP -c $< -o $@

$(LIBOUT): $(CORE_OBJ) $(INTERPOSE_OBJ)
	$(CC) $(SO_LDFLAGS) -o $@ $^ $(LDLIBS_SO)

# A program linked with -L. -losmem asks the loader for the soname: the link
# lets it run from the build tree (tests/run_tests.py does).
$(LIBOUT).$(SOVERSION): $(LIBOUT)
	ln -sf $(notdir $<) $@

# The core alone, for unit tests that call os_* without replacing malloc.
$(BUILD)/libosmem-core.a: $(CORE_OBJ)
	ar rcs $@ $^

# ---- install ----

# make install [PREFIX=/usr/local] [DESTDIR=stage] [LIBDIR=...] [BINDIR=...] [MANDIR=...]
# DESTDIR is prepended to every path and nowhere remembered, so a staged tree
# (a package's) works once copied to /.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL    ?= install
# Run after installing into the system (no DESTDIR), so the loader finds libosmem.so.1.
LDCONFIG   ?= ldconfig
# Where make deb leaves the package.
DEBDIR     ?= .

# Installed tool name <- file in scripts/
TOOLS      := osmem-run osmem-plot osmem-compare
tool_src    = scripts/$(if $(filter osmem-compare,$(1)),compare,$(1))
MAN1       := $(TOOLS:%=man/%.1)
MAN3       := man/osmem.3
HEADERS    := include/osmem.h include/block_meta.h
# The headers get a directory of their own: block_meta.h is too generic a name for include/.
HEADERDIR  := $(INCLUDEDIR)/osmem
# The installed osmem-run and osmem-compare find the library from their own
# directory, wherever the tree was copied: this is the path they use.
LIB_FROM_BIN = $(shell realpath -m -s --relative-to=$(BINDIR) $(LIBDIR))/libosmem.so.$(SOVERSION)

install: $(LIBOUT)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(HEADERDIR) \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 644 $(LIBOUT) $(DESTDIR)$(LIBDIR)/libosmem.so.$(VERSION)
	ln -sfn libosmem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libosmem.so.$(SOVERSION)
	ln -sfn libosmem.so.$(SOVERSION) $(DESTDIR)$(LIBDIR)/libosmem.so
	$(INSTALL) -m 644 $(HEADERS) $(DESTDIR)$(HEADERDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
		-e 's|@HEADERDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(HEADERDIR))|' -e 's|@VERSION@|$(VERSION)|' \
		scripts/osmem.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/osmem.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/osmem.pc
	$(foreach t,$(TOOLS),sed -e 's|^installed_lib=$$|installed_lib=$(LIB_FROM_BIN)|' \
		-e "s|^INSTALLED_LIB = ''$$|INSTALLED_LIB = '$(LIB_FROM_BIN)'|" \
		$(call tool_src,$(t)) >$(DESTDIR)$(BINDIR)/$(t) && chmod 755 $(DESTDIR)$(BINDIR)/$(t);)
	$(INSTALL) -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 644 $(MAN3) $(DESTDIR)$(MANDIR)/man3
	$(if $(DESTDIR),,-$(LDCONFIG))

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libosmem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libosmem.so.$(SOVERSION) \
		$(DESTDIR)$(LIBDIR)/libosmem.so $(DESTDIR)$(PKGCONFIGDIR)/osmem.pc \
		$(HEADERS:include/%=$(DESTDIR)$(HEADERDIR)/%) $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) \
		$(MAN1:man/%=$(DESTDIR)$(MANDIR)/man1/%) $(MAN3:man/%=$(DESTDIR)$(MANDIR)/man3/%)
	-rmdir $(DESTDIR)$(HEADERDIR)
	$(if $(DESTDIR),,-$(LDCONFIG))

# A Debian package of what make install puts under /usr (scripts/make-deb).
DEB_STAGE := $(BUILD)/deb
deb: $(LIBOUT)
	rm -rf $(DEB_STAGE)
	scripts/make-deb "$(DEB_STAGE)" "$(DEBDIR)" "$(VERSION)" "$(MAKE)"

# ---- tests ----

TEST_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Iinclude -Isrc -Itests/unit
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
ASAN_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit-asan/%)
ASAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libosmem-core.a
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(BUILD)/libosmem-core.a

# The sanitizer build compiles the core again with the sanitizers on.
$(BUILD)/unit-asan/%: tests/unit/%.c tests/unit/unit.h $(CORE_SRC) $(wildcard src/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(ASAN_FLAGS) -DOSMEM_DEBUG=0 -fno-builtin -o $@ $< $(CORE_SRC)

# The checked build (make DEBUG=1): the checker inside every os_* call, over the
# randomized test (fewer operations: each call walks the heap twice).
DEBUG_BIN := $(BUILD)/unit-debug/test_random
$(DEBUG_BIN): tests/unit/test_random.c tests/unit/unit.h $(CORE_SRC) $(wildcard src/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -DOSMEM_DEBUG=1 -fno-builtin -o $@ $< $(CORE_SRC)

unit-debug: $(DEBUG_BIN)
	@echo "unit-debug: $(DEBUG_BIN) 20000"; $(DEBUG_BIN) 20000

# ThreadSanitizer over the core's threaded test: several arenas, one thread
# each, blocks freed across threads through the remote lists.
TSAN_BIN := $(BUILD)/unit-tsan/test_arenas
$(TSAN_BIN): tests/unit/test_arenas.c tests/unit/unit.h $(CORE_SRC) $(wildcard src/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -fsanitize=thread -DOSMEM_DEBUG=0 -fno-builtin -o $@ $< $(CORE_SRC) -pthread

unit-tsan: $(TSAN_BIN)
	@echo "unit-tsan: $(TSAN_BIN) 4 10000"; TSAN_OPTIONS=halt_on_error=1 $(TSAN_BIN) 4 10000

deps:
	@scripts/install-deps

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "unit: $$t"; $$t; done
	@echo "unit: $(BUILD)/unit/test_random (the drop-in's index: lists)"; $(BUILD)/unit/test_random 100000 0x0de1f00d lists

unit-asan: $(ASAN_BIN)
	@set -e; for t in $(ASAN_BIN); do echo "unit-asan: $$t"; ASAN_OPTIONS=detect_leaks=0 $$t; done
	@echo "unit-asan: $(BUILD)/unit-asan/test_random (lists)"; ASAN_OPTIONS=detect_leaks=0 $(BUILD)/unit-asan/test_random 100000 0x0de1f00d lists

trace: libosmem.so libosmem.so.$(SOVERSION)
	$(PYTHON) tests/run_tests.py

exports: libosmem.so
	@tests/check-exports ./libosmem.so

# Real programs and single-scenario programs under LD_PRELOAD=./libosmem.so:
# every file in tests/bats, hardening.bats (issue 12's primitives) among them.
bats: libosmem.so
	bats tests/bats

# deps first, in a make of its own: what it installs (libunwind) changes the flags.
check: deps
	@$(MAKE) --no-print-directory check-tiers

check-tiers: all exports unit unit-asan unit-debug unit-tsan trace bats
	@echo "make check: all tiers passed"

# ---- the demo and the benchmarks (never part of check) ----

# Real programs (ls -lR of a tree it generates, python3, gcc) on osmem beside
# glibc, jemalloc, mimalloc and tcmalloc: tables, CSV, SVG (a few minutes). As
# root it installs the peers.
demo: $(LIBOUT)
	@scripts/demo $(DEMO_ARGS)

# The README's chart, doc/headline.svg, from doc/headline.csv: the summary.csv
# of the make bench run the README's headline quotes. After a new run:
# cp /tmp/osmem-bench-.../summary.csv doc/headline.csv, make headline, and
# the README's headline table and its run's date and commit.
HEADLINE_TITLE := osmem and its peers: make bench, 2026-12-07, at cb04f4b
headline:
	scripts/summary-svg --title '$(HEADLINE_TITLE)' doc/headline.csv doc/headline.svg

# Heap-exploitation primitives (tests/scenario/harden.c) on glibc and on osmem:
# a Markdown table of what each allocator did, for the README (a few seconds).
# e.g. make harden-table HARDEN_ARGS='--md /tmp/harden.md'
harden-table: $(LIBOUT)
	@scripts/harden-table --lib $(LIBOUT) $(HARDEN_ARGS)

# Microbenchmarks (tests/bench/*.c -> build/bench/) and real programs on every
# allocator, with a Markdown summary (~12 min at the default -n 3).
# e.g. make bench BENCH_ARGS='-n 5'   or   BENCH_ARGS='--only churn-large,gcc'
bench: $(LIBOUT)
	@scripts/bench $(BENCH_ARGS)

# The core and glibc, same program, same run.
bench-scale: $(BUILD)/libosmem-core.a
	@mkdir -p $(BUILD)/bench
	$(CC) -std=gnu11 -O2 -g -Iinclude -Isrc -o $(BUILD)/bench/scale tests/bench/scale.c $(BUILD)/libosmem-core.a
	$(CC) -std=gnu11 -O2 -g -DBENCH_LIBC -o $(BUILD)/bench/scale-libc tests/bench/scale.c
	$(BUILD)/bench/scale
	$(BUILD)/bench/scale-libc

# The threaded programs (tests/bench/threads/*.c) at 1, 2, 4, 8 and 16 threads
# on every allocator, interleaved: tables of throughput and peak RSS against
# glibc, a chart per program (about 7 min on 2 cores at the default -n 3).
# e.g. make bench-threads BENCH_THREADS_ARGS='-n 1 --threads 1,2,8 --only larson'
# A kit for a machine without network: scripts/bench-threads --kit DIR
THREADS_BIN := $(patsubst tests/bench/threads/%.c,$(BUILD)/bench-threads/bin/%,$(wildcard tests/bench/threads/*.c))
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -pthread

$(BUILD)/bench-threads/bin/%: tests/bench/threads/%.c tests/bench/threads/tb.h tests/bench/rng.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-threads-progs: $(THREADS_BIN)

bench-threads: $(LIBOUT) bench-threads-progs
	@scripts/bench-threads --bindir $(BUILD)/bench-threads/bin $(BENCH_THREADS_ARGS)

# Memory given back after a peak (issue 19), on every allocator, interleaved,
# medians of 3 (about 2.5 min on 2 cores). tests/bench/memory.c makes 300 MiB of
# blocks of 48 B, 1000 B or 100 KiB, frees them all or all but 1 in 1000, and
# samples its own resident set until 3 s after, on one thread that goes on
# with a little malloc/free or on 4 threads that then block; and 256 threads
# replacing blocks in shared slots (tests/bench/threads/shared-slots.c), peak
# RSS and wall time. A Markdown table, CSV, and a chart of resident MiB over
# time per case, in a new /tmp/osmem-bench-memory-* (-o DIR to choose).
# e.g. make bench-memory BENCH_MEMORY_ARGS='-n 1 --only 48B-*,many-threads'
$(BUILD)/bench/memory: tests/bench/memory.c tests/bench/threads/tb.h tests/bench/rng.h
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-memory-progs: $(BUILD)/bench/memory $(BUILD)/bench-threads/bin/shared-slots

bench-memory: $(LIBOUT) bench-memory-progs
	@scripts/bench-memory --build $(BUILD) $(BENCH_MEMORY_ARGS)

clean:
	rm -rf $(BUILD) libosmem.so libosmem.so.$(SOVERSION) tests/out

-include $(CORE_OBJ:.o=.d) $(INTERPOSE_OBJ:.o=.d)
