#!/usr/bin/env bats
# Hardening (issue 12): the heap-exploitation primitives of
# tests/scenario/harden.c run on osmem (LD_PRELOAD=libosmem.so). Either a
# primitive cannot reach anything (the program says `harmless`, nothing on
# stderr), or osmem reports it in exactly one line and aborts; with
# OSMEM_ABORT_ON_ERROR=0 the same line is a warning, the heap is left
# working and the program goes on (`continued`). Never `steered`: malloc
# handing out a chosen address or memory in use, or free unmapping a live
# mapping. scripts/harden-table sets the same runs beside glibc's.
#
# Plain bash checks only (bats-core 1.8, no bats-assert).

# ---- what osmem must say: the exact line of each report, as an extended
# regex with @P@ standing for the pointer the program printed first (the
# victim) ----

H='^osmem: free\(@P@\): corrupted header: '
FB='^osmem: malloc\(\): corrupted free block at @P@: '
declare -gA REPORT=(
	[remote-uaf]='^osmem: malloc\(\): corrupted remote-free list at @P@: the link leads outside the arena$'
	[remote-both]='^osmem: malloc\(\): corrupted remote-free list at @P@: the block there is not marked freed$'
	[fake-static]='^osmem: free\(@P@\): invalid pointer \(not allocated by osmem\)$'
	[fake-stack]='^osmem: free\(@P@\): invalid pointer \(not allocated by osmem\)$'
	[fake-heap]="${H}its size does not end at a block\$"
	[size-enlarge]="${H}the block after it names another predecessor\$"
	[size-enlarge-2000]="${H}the block after it names another predecessor\$"
	[size-shrink]="${H}its size does not end at a block\$"
	[pred-redirect]="${H}its predecessor link is damaged\$"
	[mapped-size]="${H}a mapped block whose size or links were changed\$"
	[mapped-size-realloc]='^osmem: realloc\(@P@\): corrupted header: a mapped block whose size or links were changed$'
	[free-links]="${FB}a link of it leads outside the free blocks\$"
	[free-size]="${FB}the block after it names another predecessor\$"
	[slab-overflow]='^osmem: malloc\(\): corrupted slab at @P@: its header was overwritten$'
)

# Primitives that reach nothing osmem trusts: no report, nothing steered.
HARMLESS="tc-word0-40 tc-word0-600 tc-both-40 tc-both-600 slab-uaf spill-uaf spill-redirect bin-uaf-3000 bin-uaf-20000 mapped-uaf"

load scenario

setup_file() {
	scn_setup harden recover
}

# The allocator was not steered (the program's own verdict).
not_steered() {
	if [[ "$out" == *steered:* ]]; then
		echo "osmem was steered: $(printf '%s\n' "$out" | grep -m 1 'steered:')"
		return 1
	fi
}

# Exit 0, nothing on stderr, stdout ends with `harmless` (then `continued`
# when the run had OSMEM_ABORT_ON_ERROR=0: pass it as $1).
expect_harmless() {
	local want=harmless
	[ "${1:-}" = warn ] && want=$'harmless\ncontinued'
	not_steered || return 1
	if [ "$status" -eq 137 ]; then
		echo "killed after ${SCN_TIMEOUT:-60} s (hang or far too slow)"
		return 1
	fi
	[ "$status" -eq 0 ] || { echo "expected exit status 0, got $status"; return 1; }
	[ -z "$err" ] || { echo "expected an empty stderr"; return 1; }
	[[ "$out" == *$'\n'"$want" ]] || { echo "stdout does not end with: $want"; return 1; }
}

# The single stderr line matches MODE's regex, @P@ being the printed pointer.
expect_line() {
	local mode="$1" addr re
	addr="$(printf '%s\n' "$out" | head -n 1)"
	[[ "$addr" =~ ^0x[0-9a-f]+$ ]] || { echo "no pointer on the first line of stdout: '$addr'"; return 1; }
	[ "$err_lines" -eq 1 ] || { echo "expected exactly one line on stderr, got $err_lines"; return 1; }
	re="${REPORT[$mode]}"
	re="${re//@P@/$addr}"
	[[ "$err" =~ $re ]] || { echo "stderr does not match $re"; return 1; }
}

# Reported, then SIGABRT (exit status 134).
expect_stopped() {
	not_steered || return 1
	[ "$status" -eq 134 ] || { echo "expected exit status 134 (SIGABRT), got $status"; return 1; }
	expect_line "$1"
}

# OSMEM_ABORT_ON_ERROR=0: reported, then the heap still works (`continued`).
expect_warned() {
	not_steered || return 1
	[ "$status" -eq 0 ] || { echo "expected exit status 0, got $status"; return 1; }
	expect_line "$1" || return 1
	[[ "$out" == *$'\n'continued ]] || { echo "stdout does not end with 'continued'"; return 1; }
}

@test "harden lists every mode this file expects something of" {
	[ -x "$SCN_BIN/harden" ] || { cat "$SCN_BIN/harden.cc.log"; false; }
	local modes mode
	modes="$("$SCN_BIN/harden" list)"
	for mode in $modes; do
		[[ " $HARMLESS " == *" $mode "* || -n "${REPORT[$mode]:-}" ]] || { echo "no expectation for $mode"; false; }
	done
	for mode in $HARMLESS "${!REPORT[@]}"; do
		printf '%s\n' "$modes" | grep -qx -- "$mode" || { echo "harden has no mode $mode"; false; }
	done
}

# ---- use after free of blocks osmem keeps no trusted data in: harmless ----

# MODE is harmless, as it is and with OSMEM_ABORT_ON_ERROR=0.
harmless_both() {
	run_scn harden "$1"
	expect_harmless || return 1
	run_scn OSMEM_ABORT_ON_ERROR=0 harden "$1"
	expect_harmless warn
}

@test "tc-word0-40: a cached 40-byte block's first word set: harmless" {
	harmless_both tc-word0-40
}

@test "tc-word0-600: a cached 600-byte block's first word set: harmless" {
	harmless_both tc-word0-600
}

@test "tc-both-40: a cached 40-byte block's first two words set: harmless" {
	harmless_both tc-both-40
}

@test "tc-both-600: a cached 600-byte block's first two words set: harmless" {
	harmless_both tc-both-600
}

@test "slab-uaf: a 48-byte block back in its slab, first two words set: harmless" {
	harmless_both slab-uaf
}

@test "spill-uaf: a 48-byte block past its cache class's stack (in a magazine of the cache's own memory), its first word set: harmless" {
	harmless_both spill-uaf
}

@test "spill-redirect: a spilled 48-byte block's first word XORed with two neighbours' addresses: harmless" {
	harmless_both spill-redirect
}

@test "bin-uaf-3000: a free 3000-byte block's first two words set: harmless" {
	harmless_both bin-uaf-3000
}

@test "bin-uaf-20000: a free 20000-byte block's first two words set: harmless" {
	harmless_both bin-uaf-20000
}

@test "mapped-uaf: a freed 1 MiB block written to (unmapped: the write faults): harmless" {
	harmless_both mapped-uaf
}

# ---- primitives osmem reports: one line, abort ----

@test "remote-uaf: the remote-free list's link set: malloc reports the list, abort" {
	run_scn harden remote-uaf
	expect_stopped remote-uaf
}

@test "remote-both: the remote-free list's block, first two words set: reported, abort" {
	run_scn harden remote-both
	expect_stopped remote-both
}

@test "fake-static: free of a fake block in static memory: invalid pointer, abort" {
	run_scn harden fake-static
	expect_stopped fake-static
}

@test "fake-stack: free of a fake block on the stack: invalid pointer, abort" {
	run_scn harden fake-stack
	expect_stopped fake-stack
}

@test "fake-heap: free of a fake block inside a live heap block: reported, abort" {
	run_scn harden fake-heap
	expect_stopped fake-heap
}

@test "size-enlarge: a block's size grown over its live neighbour: corrupted header, abort" {
	run_scn harden size-enlarge
	expect_stopped size-enlarge
}

@test "size-enlarge-2000: the same beyond the thread cache: corrupted header, abort" {
	run_scn harden size-enlarge-2000
	expect_stopped size-enlarge-2000
}

@test "size-shrink: a block's size shrunk: corrupted header, abort" {
	run_scn harden size-shrink
	expect_stopped size-shrink
}

@test "pred-redirect: a block's predecessor link aimed at a fake free block: corrupted header, abort" {
	run_scn harden pred-redirect
	expect_stopped pred-redirect
}

@test "free-links: a free block's list links overwritten: malloc reports the block, abort" {
	run_scn harden free-links
	expect_stopped free-links
}

@test "free-size: a free block's size grown over its live neighbour: malloc reports the block, abort" {
	run_scn harden free-size
	expect_stopped free-size
}

@test "mapped-size: a mapped block's size grown by 2 MiB: corrupted header, abort, nothing unmapped" {
	run_scn harden mapped-size
	expect_stopped mapped-size
}

@test "mapped-size-realloc: the same block reallocated within the pages its size claims: corrupted header, abort, nothing unmapped" {
	run_scn harden mapped-size-realloc
	expect_stopped mapped-size-realloc
}

@test "mapped-size-realloc with OSMEM_ABORT_ON_ERROR=0: reported, realloc refused, nothing unmapped, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden mapped-size-realloc
	expect_warned mapped-size-realloc
}

@test "slab-overflow: 120 bytes past a slab page's last block, into the next slab's header: malloc reports the slab, abort" {
	run_scn harden slab-overflow
	expect_stopped slab-overflow
}

# ---- the same with OSMEM_ABORT_ON_ERROR=0: one line, the heap still works ----

@test "remote-uaf, remote-both with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	local mode
	for mode in remote-uaf remote-both; do
		run_scn OSMEM_ABORT_ON_ERROR=0 harden "$mode"
		expect_warned "$mode"
	done
}

@test "fake-static, fake-stack, fake-heap with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	local mode
	for mode in fake-static fake-stack fake-heap; do
		run_scn OSMEM_ABORT_ON_ERROR=0 harden "$mode"
		expect_warned "$mode"
	done
}

@test "size-enlarge with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden size-enlarge
	expect_warned size-enlarge
}

@test "size-enlarge-2000 with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden size-enlarge-2000
	expect_warned size-enlarge-2000
}

@test "size-shrink with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden size-shrink
	expect_warned size-shrink
}

@test "pred-redirect with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden pred-redirect
	expect_warned pred-redirect
}

@test "free-links, free-size with OSMEM_ABORT_ON_ERROR=0: reported, heap intact" {
	local mode
	for mode in free-links free-size; do
		run_scn OSMEM_ABORT_ON_ERROR=0 harden "$mode"
		expect_warned "$mode"
	done
}

@test "mapped-size with OSMEM_ABORT_ON_ERROR=0: reported, nothing unmapped, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden mapped-size
	expect_warned mapped-size
}

# ---- damage met outside malloc, free and realloc (tests/scenario/recover.c):
# the links of a free block, met when a thread's deferred free merges with
# it under the lock that CALL takes ----

# recover MODE ran: exit status 0, `continued`, and the reports on stderr
# (the lines starting "osmem: ", not malloc_stats' figures) are N, the first
# naming CALL and the block the program printed first.
expect_recovered() {
	local call="$1" n="$2" addr reports re
	addr="$(printf '%s\n' "$out" | head -n 1)"
	[[ "$addr" =~ ^0x[0-9a-f]+$ ]] || { echo "no pointer on the first line of stdout: '$addr'"; return 1; }
	[ "$status" -eq 0 ] || { echo "expected exit status 0, got $status"; return 1; }
	[[ "$out" == *$'\n'continued ]] || { echo "stdout does not end with 'continued'"; return 1; }
	reports="$(printf '%s\n' "$err" | grep '^osmem: ' || true)"
	[ "$(printf '%s\n' "$reports" | grep -c .)" -eq "$n" ] || { echo "expected $n report lines"; return 1; }
	re="^osmem: $call\\(\\): corrupted free block at $addr: a link of it leads outside the free blocks\$"
	[[ "$(printf '%s\n' "$reports" | head -n 1)" =~ $re ]] || { echo "the first report does not match $re"; return 1; }
}

@test "recover: damage met inside mallinfo2, malloc_stats, malloc_trim: reported, the program goes on" {
	run_scn OSMEM_ABORT_ON_ERROR=0 recover mallinfo
	expect_recovered mallinfo2 1
	run_scn OSMEM_ABORT_ON_ERROR=0 recover stats
	expect_recovered malloc_stats 1
	[[ "$err" == *$'\n'"osmem arena 0: out of service (damaged)"$'\n'* ]] ||
		{ echo "malloc_stats does not name the arena out of service"; false; }
	run_scn OSMEM_ABORT_ON_ERROR=0 recover trim
	expect_recovered malloc_trim 1
}

@test "recover: damage met inside malloc_usable_size's second look, and at a thread's exit: reported, the program goes on" {
	run_scn OSMEM_ABORT_ON_ERROR=0 recover usable
	expect_recovered malloc_usable_size 2
	[[ "$err" == *"osmem: malloc_usable_size("*"): corrupted header: its status and tag disagree"* ]] ||
		{ echo "the damaged header is not reported"; false; }
	run_scn OSMEM_ABORT_ON_ERROR=0 recover exit
	expect_recovered free 1
}

@test "recover: the same damage met inside mallinfo2 aborts by default, in one line" {
	run_scn recover mallinfo
	[ "$status" -eq 134 ] || { echo "expected exit status 134 (SIGABRT), got $status"; false; }
	[ "$err_lines" -eq 1 ] || { echo "expected exactly one line on stderr, got $err_lines"; false; }
	[[ "$err" == "osmem: mallinfo2(): corrupted free block at "* ]] || { echo "not the report"; false; }
}

# ---- the README's table ----

@test "slab-overflow with OSMEM_ABORT_ON_ERROR=0: reported, the arena out of service, heap intact" {
	run_scn OSMEM_ABORT_ON_ERROR=0 harden slab-overflow
	expect_warned slab-overflow
}

@test "scripts/harden-table: a row per mode; osmem's column never steered, never crashed" {
	[ -x "$SCN_BIN/harden" ] || { cat "$SCN_BIN/harden.cc.log"; false; }
	run "$REPO/scripts/harden-table" --bin "$SCN_BIN/harden" --md "$BATS_TEST_TMPDIR/table.md"
	echo "$output"
	[ "$status" -eq 0 ]
	cmp -s <(printf '%s\n' "$output") "$BATS_TEST_TMPDIR/table.md" || { echo "--md wrote another table"; false; }
	[[ "$output" == *"| primitive | glibc "*" | osmem |"* ]]
	local mode row cell bad=0
	for mode in $("$SCN_BIN/harden" list); do
		[ "$(printf '%s\n' "$output" | grep -cF "(\`$mode\`) |")" -eq 1 ] || { echo "not one row for $mode"; bad=1; continue; }
		row="$(printf '%s\n' "$output" | grep -F "(\`$mode\`) |")"
		cell="${row% |}"
		cell="${cell##* | }"
		if [[ "${cell,,}" == *steered* || "${cell,,}" == *crashed* ]]; then
			echo "osmem, $mode: $cell"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ]
}
