#!/usr/bin/env bats
# OSMEM_STATS and OSMEM_CHECK on small programs with known behaviour and on real ones.

load helpers

setup_file() {
	require_lib
	cc -O0 -g -o "$BATS_FILE_TMPDIR/leaky" "$REPO/tests/insight/leaky.c"
	cc -O0 -g -o "$BATS_FILE_TMPDIR/regrow" "$REPO/tests/insight/regrow.c"
	cc -O0 -g -rdynamic -o "$BATS_FILE_TMPDIR/corrupt" "$REPO/tests/insight/corrupt.c"
	cc -O0 -g -pthread -o "$BATS_FILE_TMPDIR/corrupt_thread" "$REPO/tests/insight/corrupt_thread.c"
}

# Value of "NAME N" in the calls line of a report.
calls_of() { grep -o " $1 [0-9]*" <<<"$2" | head -1 | awk '{print $2}'; }

@test "OSMEM_STATS=1 reports exact call counts and peak live bytes of a known program" {
	run env OSMEM_STATS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leaky"
	[ "$status" -eq 0 ]
	echo "$output"
	report=$(grep -A5 '^osmem stats: pid [0-9]* (leaky)' <<<"$output")
	[ "$(calls_of malloc "$report")" -eq 100 ]
	[ "$(calls_of calloc "$report")" -eq 1 ]
	[ "$(calls_of realloc "$report")" -eq 1 ]
	[ "$(calls_of free "$report")" -eq 40 ]
	# 100 x 1000 + 10 x 10 + 5000 asked; 100 x 1008 + 112 + 5008 usable.
	grep -q '^  bytes: requested 105100, usable 105920$' <<<"$report"
	# The peak: 100 live blocks of 1008 usable bytes.
	grep -q 'live usable 100800$' <<<"$report"
	grep -q 'syscalls: brk [1-9]' <<<"$report"
	grep -q 'fragmentation 0\.[0-9][0-9][0-9]' <<<"$report"
}

@test "OSMEM_STATS' peak of mapped bytes counts a mapped block grown within its pages, and its free" {
	run env OSMEM_STATS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/regrow"
	[ "$status" -eq 0 ]
	echo "$output"
	peak=$(grep -o 'peak: heap [0-9]*, mapped [0-9]*' <<<"$output" | awk '{print $NF}')
	# The 300000-byte block and its header, in whole pages at most: neither
	# short of it (the growth left out when the first block went) nor
	# wrapped past it.
	[ "$peak" -ge 300032 ]
	[ "$peak" -le 303104 ]
	grep -q 'at exit: .* mapped 0 in 0 blocks' <<<"$output"
}

@test "without OSMEM_STATS nothing is reported" {
	run env LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leaky"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the switches are read by their whole names: OSMEM_STAT, OSMEM_STATSX and OSMEM_STATS_ report nothing, OSMEM_STATS after them does" {
	# osmem reads its variables from environ itself (not getenv): a name
	# that starts or extends another must not match it.
	run env OSMEM_STAT=1 OSMEM_STATSX=1 OSMEM_STATS_=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leaky"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run env OSMEM_STAT=1 OSMEM_STATSX=1 OSMEM_STATS_=1 OSMEM_STATS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leaky"
	[ "$status" -eq 0 ]
	grep -q '^osmem stats: pid [0-9]* (leaky)' <<<"$output"
}

@test "OSMEM_STATS=PATH with %p gives each process of gcc its own report file" {
	printf 'int main(void){return 0;}\n' >"$BATS_TEST_TMPDIR/t.c"
	env OSMEM_STATS="$BATS_TEST_TMPDIR/st.%p" LD_PRELOAD="$LIB" gcc -O2 -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/t.c"
	ls "$BATS_TEST_TMPDIR"/st.*
	grep -l '(cc1)' "$BATS_TEST_TMPDIR"/st.* | grep -q .
	grep -l '(gcc)' "$BATS_TEST_TMPDIR"/st.* | grep -q .
	# Every file is one whole report with a non-zero malloc count.
	for f in "$BATS_TEST_TMPDIR"/st.*; do
		[ "$(grep -c '^osmem stats' "$f")" -eq 1 ]
		[ "$(calls_of malloc "$(cat "$f")")" -gt 0 ]
	done
}

@test "OSMEM_STATS on python3 counts its allocations" {
	run env OSMEM_STATS=1 LD_PRELOAD="$LIB" /usr/bin/python3 -c 'import json; print(len(json.dumps({str(i): i for i in range(20000)})))'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(/usr/bin/python3 -c 'import json; print(len(json.dumps({str(i): i for i in range(20000)})))')" ]
	report=$(grep -A5 '(python3)' <<<"$output")
	[ "$(calls_of malloc "$report")" -gt 1000 ]
}

# Runs tests/insight/corrupt MODE under OSMEM_CHECK=1: it must abort, and the
# checker's line must name the damaged place it printed, as "WHAT ADDR: DETAIL".
expect_check_names() {
	local mode=$1 what=$2 detail=$3 damaged
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/corrupt" "$mode"
	echo "$output"
	[ "$status" -eq 134 ]
	damaged=$(grep -o 'damaged 0x[0-9a-f]*' <<<"$output" | awk '{print $2}')
	[ -n "$damaged" ]
	grep -Eq "^osmem: heap check failed in (malloc|free)\(\): $what $damaged: $detail" <<<"$output"
}

@test "OSMEM_CHECK=1 finds a damaged header, names the block and the call, and aborts" {
	# Found by the checker (the header's tag), or first by the guard walk (the
	# header bytes saved for the block it belongs to), whichever reaches it first.
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/corrupt" header
	echo "$output"
	[ "$status" -eq 134 ]
	damaged=$(grep -o 'damaged 0x[0-9a-f]*' <<<"$output" | awk '{print $2}')
	block=$(printf '0x%x' $((damaged + 32)))
	grep -Eq "^osmem: heap check failed in (malloc|free)\(\): block $damaged: bad tag |^osmem: heap check in (malloc|free)\(\): $block: header damaged .* at offset -17 \(a block of 512 requested bytes\)$" <<<"$output"
}

@test "OSMEM_CHECK=1 finds a damaged slab header, names the slab and the call, and aborts" {
	expect_check_names slab slab "check word"
}

# corrupt overrun/underrun under OSMEM_CHECK=1 and ENV...: it must abort with
# a report on the damaged block (the address it printed), then the stack of
# its allocation in alloc_here. Sets $report to the first line.
expect_guard_report() {
	local damaged
	run env OSMEM_CHECK=1 "${@:2}" LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/corrupt" $1
	echo "$output"
	[ "$status" -eq 134 ]
	damaged=$(grep -o 'damaged 0x[0-9a-f]*' <<<"$output" | awk '{print $2}')
	report=$(grep '^osmem: ' <<<"$output")
	[ "$(wc -l <<<"$report")" -eq 1 ]
	[[ "$report" == *"$damaged"* ]]
	grep -A1 '^  allocated at:$' <<<"$output" | grep -Eq '^    #0 0x[0-9a-f]+ alloc_here\+0x[0-9a-f]+ \(corrupt\)$'
}

@test "OSMEM_CHECK=1: 8 bytes written past a malloc(1000), found by one of the next 8 calls; the report names the block, the offset and the allocating stack" {
	local kept
	for kept in OSMEM_LEAKS=1 OSMEM_TRACE="$BATS_TEST_TMPDIR/t"; do
		expect_guard_report overrun "$kept"
		[[ "$report" =~ ^osmem:\ heap\ check\ in\ (malloc|free)\(\):\ 0x[0-9a-f]+:\ heap\ overflow:\ 8\ of\ the\ 8\ guard\ bytes\ after\ the\ 1000\ requested\ are\ damaged,\ the\ first\ at\ offset\ 1000\ \(a\ block\ of\ 1008\ usable\ bytes\)$ ]]
	done
}

@test "OSMEM_CHECK=1: an underrun into a block's header is reported at its free: 17 to 32 bytes by the guard, 1 to 16 by the checker" {
	local k
	for k in 17 24 32; do
		expect_guard_report "underrun $k" OSMEM_LEAKS=1
		[[ "$report" =~ ^osmem:\ free\(0x[0-9a-f]+\):\ header\ damaged\ .*nearest\ the\ block\ at\ offset\ -17\ \(a\ block\ of\ 1000\ requested\ bytes\)$ ]]
	done
	for k in 1 8 16; do
		run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/corrupt" underrun $k
		echo "$output"
		[ "$status" -eq 134 ]
		damaged=$(grep -o 'damaged 0x[0-9a-f]*' <<<"$output" | awk '{print $2}')
		header=$(printf '0x%x' $((damaged - 32)))
		grep -Eq "^osmem: heap check failed in free\(\): block $header: (next|prev) is " <<<"$output"
	done
}

@test "OSMEM_CHECK=1 finds a header damaged in another thread's arena at the main thread's next call" {
	run timeout 20 env OSMEM_CHECK=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/corrupt_thread"
	echo "$output"
	[ "$status" -eq 134 ]
	damaged=$(grep -o 'damaged 0x[0-9a-f]*' <<<"$output" | awk '{print $2}')
	grep -Eq "^osmem: heap check failed in malloc\(\): block $damaged: prev is 0x4141414141414141, the walk says 0x[0-9a-f]+ \(arena [1-9][0-9]*\)$" <<<"$output"
}

@test "OSMEM_CHECK=1 runs real programs cleanly (ls, python3)" {
	run_both ls -l /usr/bin
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" ls -l /usr/lib
	[ "$status" -eq 0 ]
	run env OSMEM_CHECK=1 LD_PRELOAD="$LIB" /usr/bin/python3 -c 'print(sorted({i % 97: i for i in range(5000)}.items())[:3])'
	[ "$status" -eq 0 ]
	[ "$output" = "[(0, 4947), (1, 4948), (2, 4949)]" ]
}

leak_prog() {
	cc -O0 -g -rdynamic -o "$BATS_FILE_TMPDIR/leak" "$REPO/tests/insight/leak.c"
}

@test "OSMEM_LEAKS=1 reports a known leak: its size, its count and the leaking function" {
	leak_prog
	run env OSMEM_LEAKS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leak"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -Eq '^osmem leaks: pid [0-9]+ \(leak\): 3000 bytes in 3 blocks live at exit \(3024 usable\), from 1 allocation stacks$' <<<"$output"
	grep -q '^  3000 bytes in 3 blocks (3024 usable) allocated at:$' <<<"$output"
	grep -Eq '^    #0 0x[0-9a-f]+ leak_here\+0x[0-9a-f]+ \(leak\)$' <<<"$output"
	grep -Eq '^    #1 0x[0-9a-f]+ main\+0x[0-9a-f]+ \(leak\)$' <<<"$output"
	# The freed blocks of churn() are not there.
	! grep -q churn <<<"$output"
}

@test "OSMEM_LEAKS counts the bytes asked for: 10 x malloc(12345) is 123450 bytes, on osmem and on glibc" {
	cc -O0 -g -rdynamic -o "$BATS_FILE_TMPDIR/leak10" "$REPO/tests/insight/leak10.c"
	local backend want_usable
	for backend in osmem system; do
		# Usable sizes: osmem's 16-byte classes (12352 each), glibc's chunks (12360 each).
		want_usable=$([ "$backend" = osmem ] && echo 123520 || echo 123600)
		run env OSMEM_BACKEND=$backend OSMEM_LEAKS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leak10"
		echo "$output"
		[ "$status" -eq 0 ]
		grep -Eq "^osmem leaks: pid [0-9]+ \(leak10\): 123450 bytes in 10 blocks live at exit \($want_usable usable\), from 1 allocation stacks$" <<<"$output"
		grep -q "^  123450 bytes in 10 blocks ($want_usable usable) allocated at:$" <<<"$output"
		grep -Eq '^    #0 0x[0-9a-f]+ leak_12345\+0x[0-9a-f]+ \(leak10\)$' <<<"$output"
	done
}

@test "OSMEM_LEAKS=PATH writes one report per process of gcc, and nothing on stderr" {
	printf 'int main(void){return 0;}\n' >"$BATS_TEST_TMPDIR/t.c"
	run env OSMEM_LEAKS="$BATS_TEST_TMPDIR/leaks.%p" LD_PRELOAD="$LIB" gcc -O2 -o "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/t.c"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -l '^osmem leaks: pid [0-9]* (cc1): ' "$BATS_TEST_TMPDIR"/leaks.* | grep -q .
	for f in "$BATS_TEST_TMPDIR"/leaks.*; do
		grep -Eq '^  not listed: [0-9]+ bytes in [0-9]+ blocks \([0-9]+ usable\) allocated by the C library' "$f"
	done
}

@test "OSMEM_TRACE records every call with its stack, and the heap's blocks at exit" {
	leak_prog
	t="$BATS_TEST_TMPDIR/leak.trace"
	run env OSMEM_TRACE="$t" OSMEM_STATS=1 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leak"
	[ "$status" -eq 0 ]
	head -3 "$t"
	grep -q '^# osmem trace: pid [0-9]* (leak), backtraces on, depth 8$' "$t"
	# The three leaking mallocs, with the leaking function as the first frame.
	[ "$(grep -Ec '^[0-9]+ [0-9]+ malloc 1000 -> 0x[0-9a-f]+ 1008 heap=[0-9]+ mapped=0 rss=[0-9]+ \| 0x[0-9a-f]+ leak_here\+' "$t")" -eq 3 ]
	# churn(): 100 mallocs, reallocs and frees, each named by its frame.
	[ "$(grep -Ec ' realloc 0x[0-9a-f]+ [0-9]+ -> 0x[0-9a-f]+ [0-9]+ heap=.* churn\+' "$t")" -eq 100 ]
	[ "$(grep -Ec ' free 0x[0-9a-f]+ [0-9]+ heap=.* churn\+' "$t")" -eq 100 ]
	# As many call lines as the statistics count.
	mallocs=$(grep -o ' malloc [0-9]*' <<<"$output" | head -1 | awk '{print $2}')
	[ "$(grep -Ec '^[0-9]+ [0-9]+ malloc ' "$t")" -eq "$mallocs" ]
	# The heap at exit: the three leaked blocks are there, allocated; the map ends.
	[ "$(grep -Ec '^block 0x[0-9a-f]+ 1008 alloc$' "$t")" -ge 3 ]
	[ "$(tail -1 "$t")" = end ]
}

@test "OSMEM_TRACE: a forked child's lines carry its own resident bytes, not its parent's" {
	cc -O0 -o "$BATS_FILE_TMPDIR/fork_rss" "$REPO/tests/insight/fork_rss.c"
	t="$BATS_TEST_TMPDIR/fork.trace"
	run env OSMEM_TRACE="$t" OSMEM_TRACE_DEPTH=0 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/fork_rss"
	echo "$output"
	[ "$status" -eq 0 ]
	child=${lines[0]}
	# The largest rss= on the lines of each process's threads (TID = pid here).
	most() { awk -v t="$1" -v want="$2" '$1 ~ /^[0-9]+$/ && ($2 == t) == want {
		for (i = 4; i <= NF; i++) if ($i ~ /^rss=/ && substr($i, 5) + 0 > m) m = substr($i, 5) + 0
		n++ } END { printf "%d %.0f\n", n, m }' "$t"; }
	read -r nchild child_rss < <(most "$child" 1)
	read -r nparent parent_rss < <(most "$child" 0)
	echo "child: $nchild lines, rss up to $child_rss; parent: $nparent lines, rss up to $parent_rss"
	[ "$nchild" -ge 100 ]
	[ "$nparent" -ge 100 ]
	[ "$parent_rss" -gt $((64 << 20)) ]
	[ "$child_rss" -lt $((32 << 20)) ]
}

@test "OSMEM_TRACE_DEPTH limits the frames; 0 turns stacks off" {
	leak_prog
	env OSMEM_TRACE="$BATS_TEST_TMPDIR/d2" OSMEM_TRACE_DEPTH=2 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leak"
	line=$(grep -m1 ' malloc 1000 ' "$BATS_TEST_TMPDIR/d2")
	[ "$(grep -o ' ; ' <<<"$line" | wc -l)" -eq 1 ]
	env OSMEM_TRACE="$BATS_TEST_TMPDIR/d0" OSMEM_TRACE_DEPTH=0 LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/leak"
	! grep -q ' | ' "$BATS_TEST_TMPDIR/d0"
	[ "$(grep -c ' malloc 1000 ' "$BATS_TEST_TMPDIR/d0")" -eq 3 ]
}

@test "OSMEM_BACKEND=system: python3 on glibc's malloc, with the trace, the leak report and the statistics" {
	t="$BATS_TEST_TMPDIR/py.trace"
	script='import json; print(len(json.dumps({str(i): [i] * 3 for i in range(5000)})))'
	run env OSMEM_BACKEND=system OSMEM_TRACE="$t" OSMEM_LEAKS=1 OSMEM_STATS=1 LD_PRELOAD="$LIB" /usr/bin/python3 -c "$script"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(/usr/bin/python3 -c "$script")" ]
	grep -q 'OSMEM_BACKEND=system' <<<"$output"
	grep -Eq '^osmem leaks: pid [0-9]+ \(python3\): ' <<<"$output"
	[ "$(grep -Ec '^[0-9]+ [0-9]+ malloc ' "$t")" -gt 1000 ]
	# glibc served: addresses outside osmem's heap map (there is none), and no brk counted.
	! grep -q '^block ' "$t"
	! grep -q 'syscalls: brk' <<<"$output"
}

@test "built without libunwind, the library still traces, without stacks" {
	d="$BATS_TEST_TMPDIR/nounwind"
	make -C "$REPO" --no-print-directory UNWIND=0 BUILD="$d/build" LIBOUT="$d/libosmem.so" >"$d.log" 2>&1 || { cat "$d.log"; false; }
	! ldd "$d/libosmem.so" | grep -q unwind
	leak_prog
	env OSMEM_TRACE="$d/t" OSMEM_LEAKS="$d/l" LD_PRELOAD="$d/libosmem.so" "$BATS_FILE_TMPDIR/leak"
	grep -q 'backtraces off (built without libunwind)' "$d/t"
	[ "$(grep -c ' malloc 1000 -> ' "$d/t")" -eq 3 ]
	! grep -q ' | ' "$d/t"
	grep -q '3000 bytes in 3 blocks live at exit (3024 usable)' "$d/l"
	grep -q '(no stack: built without libunwind)' "$d/l"
}

@test "a double free is reported once and not counted, traced or leak-tracked as a free" {
	cc -O0 -o "$BATS_FILE_TMPDIR/twice" "$REPO/tests/insight/twice.c"
	t="$BATS_TEST_TMPDIR/twice.trace"
	run env OSMEM_ABORT_ON_ERROR=0 OSMEM_STATS=1 OSMEM_LEAKS=1 OSMEM_TRACE="$t" LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/twice"
	echo "$output"
	[ "$status" -eq 0 ]
	p=${lines[0]}
	[ "$(grep -c "^osmem: free($p): double free (the block is already free)$" <<<"$output")" -eq 1 ]
	report=$(grep -A5 '(twice)' <<<"$output" | head -6)
	[ "$(calls_of free "$report")" -eq 2 ]
	[ "$(grep -c " free $p 3008 " "$t")" -eq 1 ]
	grep -q '(twice): 0 bytes in 0 blocks live at exit (0 usable)' <<<"$output"
}
