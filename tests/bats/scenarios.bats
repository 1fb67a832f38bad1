#!/usr/bin/env bats
# Single-scenario programs (tests/scenario/*.c) run on osmem's drop-in malloc
# (LD_PRELOAD=libosmem.so): SPEC part 2, rules 23-32. Each program checks its
# own conditions and exits non-zero with a "FAIL ..." line on stderr; the
# tests here assert the exit status and stderr: empty where nothing should be
# reported, one exact line for a misuse report.
#
# Plain bash checks only (bats-core 1.8, no bats-assert).

load scenario

setup_file() {
	local src names=()
	for src in "$BATS_TEST_DIRNAME"/../scenario/*.c; do
		names+=("$(basename "$src" .c)")
	done
	scn_setup "${names[@]}"
}

# The program exited 0 and wrote nothing on stderr.
expect_clean() {
	if [ "$status" -eq 137 ]; then
		echo "killed after ${SCN_TIMEOUT:-60} s (hang or far too slow)"
		return 1
	fi
	[ "$status" -eq 0 ] || { echo "expected exit status 0, got $status"; return 1; }
	[ -z "$err" ] || { echo "expected an empty stderr"; return 1; }
}

# expect_report STATUS CALL WHAT: exit status STATUS, and stderr is exactly
# one line "osmem: CALL(ADDR): WHAT", ADDR being the pointer the program
# printed as the first line of its stdout. WHAT is an extended regex.
expect_report() {
	local want_status="$1" call="$2" what="$3" addr line
	[ "$status" -eq "$want_status" ] || { echo "expected exit status $want_status, got $status"; return 1; }
	addr="$(printf '%s\n' "$out" | head -n 1)"
	[[ "$addr" =~ ^0x[0-9a-f]+$ ]] || { echo "no pointer on the first line of stdout: '$addr'"; return 1; }
	[ "$err_lines" -eq 1 ] || { echo "expected exactly one line on stderr, got $err_lines"; return 1; }
	line="$err"
	[[ "$line" =~ ^osmem:\ $call\((0x[0-9a-f]+)\):\ ($what)$ ]] || {
		echo "stderr line does not match 'osmem: $call(0x...): $what'"
		return 1
	}
	[ "${BASH_REMATCH[1]}" = "$addr" ] || { echo "reported address ${BASH_REMATCH[1]}, the pointer was $addr"; return 1; }
}

DOUBLE='double free \(the block is already free\)'
INVALID='invalid pointer \(not allocated by osmem\)'

# ---- the programs run on osmem at all ----

@test "scenario programs refuse to run without osmem (the os_malloc check works)" {
	[ -x "$SCN_BIN/malloc_zero" ] || { cat "$SCN_BIN/malloc_zero.cc.log"; false; }
	run "$SCN_BIN/malloc_zero"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not running on osmem"* ]]
}

# ---- 1-9, 12, 13, 16, 17: silent success ----

@test "1. malloc(0), calloc(0, n), realloc(NULL, 0): unique, non-NULL, freeable" {
	run_scn malloc_zero
	expect_clean
}

@test "2. every pointer is 16-aligned: all functions, sizes 0..300000, around the mmap threshold" {
	run_scn align16
	expect_clean
}

@test "3. posix_memalign: EINVAL (errno kept), ENOMEM (errno ENOMEM), *memptr untouched, aligned and usable on success" {
	run_scn posix_memalign
	expect_clean
}

@test "4. aligned_alloc, memalign, valloc, pvalloc: alignment, rounding, realloc, usable size; memalign(SIZE_MAX, n): EINVAL" {
	run_scn memalign_family
	expect_clean
}

@test "5. malloc_usable_size >= request and writable to its last byte; (NULL) == 0" {
	run_scn usable_size
	expect_clean
}

@test "6. calloc/reallocarray overflow -> NULL/ENOMEM; calloc zeroes reused blocks" {
	run_scn calloc_zero
	expect_clean
}

@test "7. malloc(SIZE_MAX), (SIZE_MAX-16), (PTRDIFF_MAX)... -> NULL/ENOMEM from every function" {
	run_scn huge_sizes
	expect_clean
}

@test "8. a failed realloc returns NULL/ENOMEM and leaves the block intact" {
	run_scn realloc_fail
	expect_clean
}

@test "9. free preserves errno" {
	run_scn free_errno
	expect_clean
}

# ---- 10: double free ----

@test "10. double free: one line, then abort (SIGABRT)" {
	run_scn double_free small
	expect_report 134 free "$DOUBLE"
}

@test "10. double free with OSMEM_ABORT_ON_ERROR=0: one line, the program goes on" {
	run_scn OSMEM_ABORT_ON_ERROR=0 double_free small
	expect_report 0 free "$DOUBLE"
	[[ "$out" == *continued* ]]
}

@test "10. double free of a block merged into its free neighbour: reported, abort" {
	run_scn double_free merged
	expect_report 134 free "$DOUBLE|$INVALID"
}

@test "10. double free of a merged block with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 double_free merged
	expect_report 0 free "$DOUBLE|$INVALID"
	[[ "$out" == *continued* ]]
}

@test "10. double free of a small block back in its slab (the thread cache full): reported, abort" {
	run_scn double_free slab
	expect_report 134 free "$DOUBLE"
}

@test "10. double free of a small block held in another thread's cache: reported, abort" {
	run_scn double_free thread
	expect_report 134 free "$DOUBLE"
}

@test "10. double free of a block whose free waits for the thread's next lock (threads, 5000 B): reported, abort" {
	run_scn double_free deferred
	expect_report 134 free "$DOUBLE"
}

@test "10. double free of a block another thread freed, taken from the remote list into the cache: reported, abort" {
	run_scn double_free drained
	expect_report 134 free "$DOUBLE"
}

@test "10. double free of a 3000 B block held in the cache's big classes (threads): reported, abort" {
	run_scn double_free bigcached
	expect_report 134 free "$DOUBLE"
}

@test "10. double free of small and deferred blocks with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	local mode
	for mode in slab thread drained deferred bigcached; do
		run_scn OSMEM_ABORT_ON_ERROR=0 double_free "$mode"
		expect_report 0 free "$DOUBLE"
		[[ "$out" == *continued* ]]
	done
}

@test "10. realloc of a freed block: one line naming realloc, abort" {
	run_scn double_free realloc
	expect_report 134 realloc "$DOUBLE"
}

@test "10. realloc of a freed block with OSMEM_ABORT_ON_ERROR=0: one line, the program goes on" {
	run_scn OSMEM_ABORT_ON_ERROR=0 double_free realloc
	expect_report 0 realloc "$DOUBLE"
	[[ "$out" == *continued* ]]
}

# ---- 11: foreign pointers ----

@test "11. free of a pointer into a static array: invalid pointer, abort" {
	run_scn foreign_free static
	expect_report 134 free "$INVALID"
}

@test "11. free of a pointer into a stack buffer: invalid pointer, abort" {
	run_scn foreign_free stack
	expect_report 134 free "$INVALID"
}

@test "11. free of a pointer inside a heap block: invalid pointer, abort" {
	run_scn foreign_free interior
	expect_report 134 free "$INVALID"
}

@test "11. free of a pointer inside a small (slab) block: invalid pointer, abort" {
	run_scn foreign_free interior-small
	expect_report 134 free "$INVALID"
}

@test "11. free of a pointer inside a mapped block: invalid pointer, abort" {
	run_scn foreign_free interior-mapped
	expect_report 134 free "$INVALID"
}

@test "11. realloc of a pointer into a static array: one line naming realloc, abort" {
	run_scn foreign_free realloc-static
	expect_report 134 realloc "$INVALID"
}

@test "11. realloc of a pointer into a stack buffer: one line naming realloc, abort" {
	run_scn foreign_free realloc-stack
	expect_report 134 realloc "$INVALID"
}

@test "11. foreign free/realloc with OSMEM_ABORT_ON_ERROR=0: one line each, heap intact" {
	local mode
	for mode in static stack interior interior-small interior-mapped; do
		run_scn OSMEM_ABORT_ON_ERROR=0 foreign_free "$mode"
		expect_report 0 free "$INVALID"
		[[ "$out" == *continued* ]]
	done
	for mode in realloc-static realloc-stack; do
		run_scn OSMEM_ABORT_ON_ERROR=0 foreign_free "$mode"
		expect_report 0 realloc "$INVALID"
		[[ "$out" == *continued* ]]
	done
}

# ---- 12, 13: brk and mmap refused ----

@test "12. brk refused by RLIMIT_DATA (soft limit 0): heap memory comes from mmap, and every block freed in its segments comes back" {
	run_scn brk_refused rlimit
	expect_clean
}

@test "12. brk blocked by a mapping at the break: heap memory comes from mmap, and every block freed in its segments comes back" {
	run_scn brk_refused mapping
	expect_clean
}

@test "13. small RLIMIT_AS: NULL/ENOMEM (only when brk and mmap both fail), no crash, recovery" {
	run_scn rlimit_as
	expect_clean
}

# ---- 14, 15: threads and fork ----

@test "14. 8 threads x 1e6 random operations with content checks and cross-thread frees" {
	SCN_TIMEOUT=120
	local t0=$SECONDS
	run_scn threads 1000000 8
	expect_clean
	echo "# took $((SECONDS - t0)) s"
	[ $((SECONDS - t0)) -lt 30 ] || { echo "too slow: 30 s at most"; false; }
}

@test "15. fork 200 times while 3 threads allocate: every child can allocate and exits 0" {
	SCN_TIMEOUT=120
	run_scn fork_threads 200
	expect_clean
}

@test "14b. 16 threads x 2e5 random operations with content checks and cross-thread frees" {
	SCN_TIMEOUT=120
	run_scn threads 200000 16
	expect_clean
}

# ---- 21-26: arenas ----

@test "21. threads that allocate at once get arenas of their own (malloc_stats names them), 2 per CPU at most, blocks intact" {
	run_scn arenas spread 16
	expect_clean
	[[ "$out" =~ ^16\ threads,\ ([0-9]+)\ arenas$ ]] && [ "${BASH_REMATCH[1]}" -gt 1 ]
}

@test "22. MALLOC_ARENA_MAX=1, OSMEM_ARENAS=1: one arena for every thread, still correct" {
	run_scn MALLOC_ARENA_MAX=1 arenas expect-one 8
	expect_clean
	run_scn OSMEM_ARENAS=1 arenas expect-one 8
	expect_clean
	run_scn MALLOC_ARENA_MAX=1 threads 100000 8
	expect_clean
}

@test "23. 1000 short-lived threads: arenas and thread caches are reused; resident memory and address space do not grow" {
	SCN_TIMEOUT=120
	run_scn arenas reuse 1000
	expect_clean
	echo "$out"
}

@test "23. the first thread binds to arena 0 after another thread did, and so does a fork child's (forked by a thread with no arena)" {
	run_scn arenas first
	expect_clean
	echo "$out"
}

@test "23. a thread's first arena costs no system call to tell the first thread: 1000 threads, gettid and getpid once" {
	local t="$BATS_TEST_TMPDIR/strace"
	SCN_TIMEOUT=120
	strace -f -o "$t" -e trace=gettid,getpid env LD_PRELOAD="$REPO/libosmem.so" "$SCN_BIN/arenas" reuse 1000 >/dev/null
	grep -c 'gettid\|getpid' "$t" || true
	# Asked once, at the first call, not at each of the 1000 threads' first arena.
	[ "$(grep -c 'gettid(' "$t")" -le 1 ]
	[ "$(grep -c 'getpid(' "$t")" -le 1 ]
}

@test "23. 64 threads that freed what they allocated hold no more in their caches together than the shared budget" {
	run_scn arenas caches 64
	expect_clean
	echo "$out"
}

@test "23. blocks one thread allocates and another frees, both running: they come back (the heap stays small), intact" {
	run_scn arenas handoff 20000
	expect_clean
	echo "$out"
}

@test "23. more than 16 threads per CPU: the arenas past one per CPU lose their threads, what is freed into them goes back at once, and they serve new threads once the crowd has gone" {
	# A long window, so that only the abandoned arenas' rule gives anything
	# back (the program runs itself again on 2 CPUs at most).
	SCN_TIMEOUT=120
	run_scn OSMEM_DECAY_MS=60000 arenas crowd
	expect_clean
	echo "$out"
}

@test "23. blocks freed into an arena after its last thread left (sent late from another thread's outbox) are taken back by the purger and decay" {
	run_scn OSMEM_DECAY_MS=200 arenas stranded
	expect_clean
	echo "$out"
}

@test "24. fork while every arena is busy: each child frees, resizes and allocates blocks of every arena" {
	SCN_TIMEOUT=120
	run_scn arenas forkbusy 50
	expect_clean
}

@test "25. a single-threaded program forks in a signal handler that interrupted malloc or free: no hang" {
	SCN_TIMEOUT=120
	run_scn arenas sigfork 1000
	expect_clean
}

@test "26. threads using stdio's list lock and malloc while another forks: no deadlock" {
	SCN_TIMEOUT=120
	run_scn arenas stdiofork 1000
	expect_clean
}

@test "27. the thread cache serves a request its own class cannot with a block at most an eighth and 16 bytes larger above the slab sizes, never more, and at the slab sizes with none larger; in its own class the newest block that holds it; it keeps blocks of 4-8 KiB only while the process has one thread" {
	run_scn cache_fit
	expect_clean
}

@test "27. realloc of small blocks: kept in place within their class, else moved through the thread's cache both ways (another arena's block too), contents kept over 200000 random reallocs" {
	run_scn realloc_small
	expect_clean
	[[ "$out" == realloc_small:* ]]
}

@test "28. an arena that grew again after giving its free top back waits a second before it gives it back again; malloc_trim does not wait" {
	run_scn trim_delay
	expect_clean
}

@test "29. posix_memalign under RLIMIT_AS in 4 threads: ENOMEM sets errno to ENOMEM (glibc's tst-malloc-thread-fail); success and EINVAL keep it" {
	run_scn memalign_errno late
	expect_clean
	[[ "$out" == "late: 4 threads, "*" ENOMEM returns, errno ENOMEM at each" ]]
	run_scn memalign_errno bound
	expect_clean
	[[ "$out" == "bound: 4 threads, "*" ENOMEM returns, errno ENOMEM at each" ]]
}

# ---- 16, 17 ----

@test "16. the program moves the break itself: blocks and its own regions stay intact" {
	run_scn own_sbrk
	expect_clean
}

@test "17. mallinfo2, mallinfo, malloc_trim, mallopt, malloc_stats report real figures" {
	run_scn mallinfo
	expect_clean
}

@test "18. large blocks: realloc growth by mremap keeps the data; freed large blocks come back from the heap" {
	run_scn OSMEM_STATS="$BATS_TEST_TMPDIR/stats" large_blocks
	expect_clean
	cat "$BATS_TEST_TMPDIR/stats"
	line=$(grep '^  syscalls:' "$BATS_TEST_TMPDIR/stats")
	mmaps=$(sed -E 's/.*mmap ([0-9]+),.*/\1/' <<<"$line")
	mremaps=$(sed -E 's/.*mremap ([0-9]+).*/\1/' <<<"$line")
	echo "mmap $mmaps, mremap $mremaps"
	# ~4000 reallocs of a mapped block, 4 KiB each: resized in place or by
	# mremap with a quarter's slack (about 20 mremaps, not one per step), never
	# a fresh mapping each; 50 x 1 MiB after a 1 MiB free: from the heap.
	[ "$mmaps" -le 5 ]
	[ "$mremaps" -ge 1 ]
	[ "$mremaps" -le 60 ]
}

@test "18. large blocks: the heap block realloc moves into a mapping has the pages its copy writes populated in one call" {
	local t="$BATS_TEST_TMPDIR/strace"
	strace -f -o "$t" -e trace=madvise env LD_PRELOAD="$REPO/libosmem.so" "$SCN_BIN/large_blocks"
	grep 'MADV_POPULATE_WRITE' "$t" || true
	# One move out of the heap (64 KiB grown past the 128 KiB threshold),
	# its copy over 124 KiB; the mremaps after it populate nothing.
	[ "$(grep -c 'MADV_POPULATE_WRITE' "$t")" -eq 1 ]
	len=$(grep 'MADV_POPULATE_WRITE' "$t" | sed -E 's/.*madvise\(0x[0-9a-f]+, ([0-9]+), MADV_POPULATE_WRITE.*/\1/')
	[ "$len" -ge $((124 << 10)) ]
	[ "$len" -le $((136 << 10)) ]
}

@test "18. large blocks: a kernel that refuses MADV_POPULATE_WRITE (seccomp here): the realloc into a mapping succeeds, data and errno kept" {
	run_scn large_blocks refused-populate
	[[ "$out" != skip* ]] || skip "$out"
	expect_clean
	[[ "$out" == "populate refused: realloc succeeded, data and errno kept" ]]
}

@test "19. free of a mapped block whose munmap hits vm.max_map_count: no abort, errno kept, the program goes on" {
	run_scn munmap_refused
	[[ "$out" != skip* ]] || skip "$out"
	expect_clean
	[[ "$out" == "munmap refused after "* ]]
}

@test "20. OSMEM_CHECK=1: every overrun of 1..64 bytes past the requested size, sizes 1..100000 and mapped, is reported at its first byte" {
	local t0=$SECONDS
	run_scn OSMEM_CHECK=1 OSMEM_ABORT_ON_ERROR=0 overrun
	expect_clean
	[[ "$out" =~ ^([0-9]+)\ overruns,\ each\ reported\ at\ its\ first\ byte$ ]]
	[ "${BASH_REMATCH[1]}" -gt 40000 ]
	echo "# took $((SECONDS - t0)) s"
	[ $((SECONDS - t0)) -lt 20 ] || { echo "too slow: 20 s at most"; false; }
}

# ---- 30-33: decay (OSMEM_DECAY_MS) ----

# decay_each_kind VAR=value MODE: the decay scenario in MODE for slab
# objects, heap blocks and 100 KiB blocks, none kept.
decay_each_kind() {
	local kind
	for kind in small medium large; do
		run_scn "$1" decay "$kind" 0 "$2"
		expect_clean || return 1
		echo "$kind: $out"
	done
}

@test "30. single-threaded, with calls going on: free slab objects, heap blocks and tops go back within two windows and not before, 1 block in 1000 kept or none; OSMEM_STATS counts it" {
	local kind pin
	for kind in small medium large; do
		for pin in 0 1000; do
			run_scn OSMEM_DECAY_MS=400 OSMEM_STATS="$BATS_TEST_TMPDIR/stats" decay "$kind" "$pin" calls
			expect_clean
			echo "$kind $pin: $out"
			[[ "$(grep '^  given back:' "$BATS_TEST_TMPDIR/stats")" =~ ^\ \ given\ back:\ ([0-9]+)\ bytes\ of\ free\ memory\ in\ ([0-9]+) ]]
			# At least half of the 64 MiB freed, in a pass or more.
			[ "${BASH_REMATCH[1]}" -gt $((32 << 20)) ] && [ "${BASH_REMATCH[2]}" -ge 1 ]
		done
	done
}

@test "30. single-threaded, every call served by the thread cache: the cache's own count of blocks handed out still lets decay look, and the memory goes back" {
	decay_each_kind OSMEM_DECAY_MS=400 hits
}

@test "30. single-threaded, every call reaching the heap (none the cache): the arena's own count of calls lets decay look, and the memory goes back" {
	decay_each_kind OSMEM_DECAY_MS=400 heap
}

@test "31. OSMEM_DECAY_MS=0 gives free memory back at once; -1 never (single-threaded and idle threads)" {
	run_scn OSMEM_DECAY_MS=0 decay medium 0 calls
	expect_clean
	run_scn OSMEM_DECAY_MS=0 decay small 1000 calls
	expect_clean
	run_scn OSMEM_DECAY_MS=-1 decay medium 0 calls
	expect_clean
	run_scn OSMEM_DECAY_MS=-1 decay medium 0 idle
	expect_clean
	# The program's own check can fail: with decay on, -1's expectation does not hold.
	run_scn OSMEM_DECAY_MS=200 decay medium 0 idle
	expect_clean
}

@test "32. threads that go idle after freeing: osmem's purger gives their memory back without another call, in parent and child after fork" {
	decay_each_kind OSMEM_DECAY_MS=200 idle
	run_scn OSMEM_DECAY_MS=200 decay medium 1000 idle
	expect_clean
	run_scn OSMEM_DECAY_MS=200 decay medium 0 fork
	expect_clean
	[ "$(grep -c '^child: ' <<<"$out")" -eq 1 ] && [ "$(grep -c '^parent: ' <<<"$out")" -eq 1 ]
}

@test "33. a single-threaded program stays one thread (no purger), and exits as before; a threaded one has one purger" {
	run_scn OSMEM_DECAY_MS=100 decay medium 0 tasks
	expect_clean
	[ "$out" = "single-threaded: 1 threads, 0 purger
after a thread: 2 threads, 1 purger" ]
}

# ---- 34: the thread cache's batches ----

@test "34. bursts past the cache's limits (batches taken from the slabs and given back): every block intact, none handed out twice, none lost" {
	run_scn cache_burst fill
	expect_clean
	run_scn cache_burst remote
	expect_clean
	run_scn cache_burst fork
	expect_clean
}

@test "34. a thread's cache holds up to its byte budget, OSMEM_TCACHE_KB's when set: 0 caches nothing" {
	run_scn cache_burst budget 320
	expect_clean
	run_scn OSMEM_TCACHE_KB=0 cache_burst budget 0
	expect_clean
	run_scn OSMEM_TCACHE_KB=40 cache_burst budget 40
	expect_clean
	run_scn OSMEM_TCACHE_KB=400 cache_burst budget 400
	expect_clean
}

@test "34. a single-threaded program that never frees opens its cache after a few takes and fills it in batches, a thread of a threaded one does not; every block comes back" {
	run_scn cache_burst lone
	expect_clean
	[[ "$out" == *"came from its cache, none of a thread's"* ]]
}

@test "34. a freed heap block whose page begins with its own address and a forged slab header: back to the heap, never handed out as a slab object" {
	run_scn cache_burst selfpage
	expect_clean
}
