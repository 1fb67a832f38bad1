#!/usr/bin/env bats
# scripts/osmem-plot: OSMEM_TRACE files of real programs and of a hand-made
# trace with known figures turned into SVG pictures.

load helpers

PLOT="$REPO/scripts/osmem-plot"

setup_file() {
	require_lib
	# Builds 64 MiB of blocks, frees them and waits four decay windows.
	cc -O1 -g -pthread -o "$BATS_FILE_TMPDIR/decay" "$REPO/tests/scenario/decay.c" -ldl
}

# The trace in DIR written by the program named PROG (a glob), from the
# header line "# osmem trace: pid N (PROG), ...".
pick_trace() {
	local prog=$1 dir=$2 f name
	for f in "$dir"/*.trace; do
		name=$(head -n 1 "$f" | sed -n 's/^# osmem trace: pid [0-9]* (\(.*\)), backtraces .*/\1/p')
		# shellcheck disable=SC2053  # $prog is a glob on purpose
		if [[ $name == $prog ]]; then
			echo "$f"
			return 0
		fi
	done
	echo "no trace from $prog in $dir; headers:" >&2
	head -q -n 1 "$dir"/*.trace >&2
	return 1
}

# The largest heap=H + mapped=M of the call lines of a trace.
max_heap_mapped() {
	awk '$1 ~ /^[0-9]+$/ {
		h = -1; m = -1
		for (i = 4; i <= NF && $i != "|"; i++) {
			if ($i ~ /^heap=/) h = substr($i, 6) + 0
			if ($i ~ /^mapped=/) m = substr($i, 8) + 0
		}
		if (h >= 0 && m >= 0 && h + m > max) max = h + m
	} END { printf "%.0f\n", max }' "$1"
}

# The peak live bytes in the summary line of osmem-plot's output.
peak_of() {
	sed -n 's/^summary: .*peak live \([0-9]*\) bytes.*/\1/p' <<<"$1"
}

assert_xml() {
	python3 -c 'import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])' "$1" || {
		echo "FAIL: $1 is not well-formed XML"
		return 1
	}
}

# Fewest coordinate pairs in the timeline's polylines (live, heap, mapped,
# and resident when the trace has rss=).
min_points() {
	grep -o 'class="series [a-z]*"[^>]* points="[^"]*"' "$1" |
		awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(points=")?[0-9.]+,[0-9.]+"?$/) n++
		       if (min == "" || n < min) min = n; lines++ }
		     END { if (lines < 3 || lines > 4) min = 0; print min + 0 }'
}

# The resident figures of a trace, one "name value" a line: peak (the
# largest rss=), last (rss= of the last call line), lines (call lines),
# with_rss (of them, those with rss=), decays (decay lines), decay_min (the
# least rss= on a decay line), purger (decay lines of a thread that made no
# call: osmem's purger), purger_min (the least rss= on those).
rss_figures() {
	awk 'function rss(   i) { for (i = 4; i <= NF && $i != "|"; i++) if ($i ~ /^rss=/) return substr($i, 5) + 0; return -1 }
	     NR == FNR { if ($1 ~ /^[0-9]+$/ && $3 != "decay" && $3 != "trim") caller[$2] = 1; next }
	     $1 !~ /^[0-9]+$/ { next }
	     { r = rss(); if (r > peak) peak = r }
	     $3 == "decay" { decays++; if (decay_min == "" || r < decay_min) decay_min = r
	                     if (!($2 in caller)) { purger++; if (purger_min == "" || r < purger_min) purger_min = r } }
	     $3 != "decay" && $3 != "trim" { lines++; if (r >= 0) { with_rss++; last = r } }
	     END { printf "peak %.0f\nlast %.0f\nlines %d\nwith_rss %d\ndecays %d\ndecay_min %.0f\npurger %d\npurger_min %.0f\n",
	                  peak, last, lines, with_rss, decays, decay_min, purger, purger_min }' "$1" "$1"
}

# "name value" of rss_figures' output.
figure() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }

# The resident line of a timeline: "PEAK LAST", the largest value on it and
# its value at the end, in thousandths of the plot's height.
resident_line() {
	python3 - "$1" <<-'EOF'
	import re, sys
	svg = open(sys.argv[1]).read()
	frame = re.search(r'<rect x="\d+" y="(\d+)" width="\d+" height="(\d+)" fill="none"', svg)
	top, height = int(frame.group(1)), int(frame.group(2))
	pts = re.search(r'class="series resident"[^>]* points="([^"]*)"', svg).group(1).split()
	ys = [float(p.split(",")[1]) for p in pts]
	value = lambda y: round(1000 * (top + height - y) / height)
	print(value(min(ys)), value(ys[-1]))
	EOF
}

# Runs osmem-plot on TRACE with prefix PREFIX and checks the pictures and
# the summary against the trace itself (and, given a stats file, against
# the live peak OSMEM_STATS reported for the same process).
check_plot() {
	local trace=$1 prefix=$2 stats=${3:-}
	run "$PLOT" "$trace" -o "$prefix"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"wrote $prefix-timeline.svg"* ]]
	[[ $output == *"wrote $prefix-heapmap.svg"* ]]
	[ -s "$prefix-timeline.svg" ]
	[ -s "$prefix-heapmap.svg" ]
	assert_xml "$prefix-timeline.svg"
	assert_xml "$prefix-heapmap.svg"

	local blocks rects points
	blocks=$(grep -c '^block ' "$trace")
	rects=$(grep -c '<rect class="blk ' "$prefix-heapmap.svg")
	echo "blocks $blocks, block rects $rects"
	[ "$blocks" -ge 10 ]
	# A header and a payload rect per block (more where a block wraps a row).
	[ "$rects" -ge "$blocks" ]
	points=$(min_points "$prefix-timeline.svg")
	echo "fewest points in a series: $points"
	[ "$points" -ge 10 ]
	grep -q '>live (held by the program)<' "$prefix-timeline.svg"
	grep -q 'fragmentation (free/heap) [01]\.[0-9][0-9][0-9]' "$prefix-heapmap.svg"
	# Small blocks live in slabs, drawn as such.
	grep -q '^block 0x[0-9a-f]* 4064 slab$' "$trace"
	grep -q '<rect class="blk slab' "$prefix-heapmap.svg"

	local peak max
	peak=$(peak_of "$output")
	max=$(max_heap_mapped "$trace")
	echo "peak live $peak, largest heap+mapped $max"
	[ -n "$peak" ]
	[ "$peak" -gt 0 ]
	[ "$peak" -le "$max" ]
	if [ -n "$stats" ]; then
		# OSMEM_STATS counts live bytes the same way, in the process.
		grep "peak:" "$stats"
		grep -q "peak: heap [0-9]*, mapped [0-9]*, live usable $peak\$" "$stats"
	fi
}

@test "osmem-plot draws a python3 trace (with backtraces) and agrees with OSMEM_STATS" {
	local py d
	py=$(python3 -c 'import sys; print(sys.executable)')   # not a wrapper script
	d=$BATS_TEST_TMPDIR
	OSMEM_TRACE="$d/py.%p.trace" OSMEM_STATS="$d/py.%p.stats" LD_PRELOAD="$LIB" "$py" -c '
d = {}
for i in range(100000):
    d[i] = str(i) * 3
    if i % 3 == 0:
        del d[i // 2]
s = {k: v for k, v in d.items() if k % 7}
print(len(d), len(s))' >"$d/out"
	cat "$d/out"
	local t
	t=$(pick_trace 'python3*' "$d")
	grep -q ' | ' "$t"   # frames after the calls: the parser must skip them
	check_plot "$t" "$d/py" "${t%.trace}.stats"
}

@test "osmem-plot draws the trace of cc1 under gcc -O2 -c" {
	local d=$BATS_TEST_TMPDIR
	cat >"$d/small.c" <<-'EOF'
	#include <stdio.h>
	#include <stdlib.h>
	#include <string.h>
	struct item { int key; char *name; struct item *next; };
	static struct item *push(struct item *head, int key, const char *name)
	{
		struct item *it = malloc(sizeof *it);
		it->key = key;
		it->name = strdup(name);
		it->next = head;
		return it;
	}
	int main(int argc, char **argv)
	{
		struct item *head = NULL;
		for (int i = 0; i < argc * 100; i++)
			head = push(head, i, argv[0]);
		printf("%d %s\n", head->key, head->name);
		return 0;
	}
	EOF
	# With stacks (the default depth): cc1's symbol table is large, which the
	# trace's symbol cache must absorb.
	(cd "$d" && OSMEM_TRACE="$d/cc.%p.trace" OSMEM_STATS="$d/cc.%p.stats" \
		LD_PRELOAD="$LIB" gcc -O2 -c small.c -o small.o)
	[ -s "$d/small.o" ]
	local t
	t=$(pick_trace cc1 "$d")
	check_plot "$t" "$d/cc1" "${t%.trace}.stats"
}

@test "osmem-plot reports the exact peak live bytes of a hand-made trace" {
	local d=$BATS_TEST_TMPDIR
	# The live bytes after each call are listed below the trace.
	cat >"$d/hand.trace" <<-'EOF'
	# osmem trace: pid 4242 (hand), backtraces off (built without libunwind), depth 0
	1000000 4242 malloc 100 -> 0x1000 112 heap=135168 mapped=0
	2000000 4242 malloc 200 -> 0x2000 208 heap=135168 mapped=0
	3000000 4242 free 0x1000 112 heap=135168 mapped=0
	4000000 4242 realloc 0x2000 500 -> 0x3000 512 heap=135168 mapped=0 | 0x401234 main+0x24 (hand) ; 0x7f0000001000 __libc_start_main+0x80 (libc.so.6)
	5000000 4243 calloc 10 10 -> 0x4000 112 heap=135168 mapped=0
	6000000 4243 realloc 0x4000 0 heap=135168 mapped=0
	7000000 4242 malloc 9223372036854775807 -> 0x0 0 heap=135168 mapped=0
	8000000 4242 realloc 0x3000 99999999 -> 0x0 0 heap=135168 mapped=0
	9000000 4242 posix_memalign 64 300 -> 0x5000 320 heap=135168 mapped=0
	10000000 4242 reallocarray 0x5000 0 heap=135168 mapped=0
	11000000 4242 memalign 128 1000 -> 0x6000 1008 heap=135168 mapped=0
	12000000 4242 free 0x9999 64 heap=135168 mapped=0
	13000000 4242 malloc 40 -> 0x7000 48 heap=135168 mapped=0
	14000000 4242 realloc 0x7000 0 heap=135168 mapped=0
	15000000 4242 realloc 0x3000 100 -> 0x3000 112 heap=135168 mapped=0
	16000000 4242 free 0x6000 1008 heap=135168 mapped=0
	block 0x1000 112 free
	block 0x1090 64 cached
	block 0x10f0 1008 alloc
	block 0x1500 16 alloc
	block 0x1530 133808 free
	end
	EOF
	# 112, 320, 208, 512, 624, 512 (realloc(p, 0): a free), 512 (failed),
	# 512 (failed realloc: 0x3000 stays), 832, 512 (reallocarray(p, n, 0)),
	# 1520, 1520 (free of an unknown pointer), 1568: the peak, 1520
	# (realloc(p, 0)), 1120, 112.
	run "$PLOT" "$d/hand.trace"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(peak_of "$output")" = 1568 ]
	[[ $output == *"summary: 16 calls in 2 threads"* ]]
	[[ $output == *"final heap 135168 bytes"* ]]
	[[ $output == *", 2 failed"* ]]
	# The default prefix: the trace's name without its extension.
	assert_xml "$d/hand-timeline.svg"
	assert_xml "$d/hand-heapmap.svg"
	# The blocks fill 135168 bytes from 0x1000; free 112 + 133808 = 133920.
	grep -qF 'heap 132 KiB (135,168 bytes) · free 130.78 KiB in 2 blocks, largest 130.67 KiB · fragmentation (free/heap) 0.991' \
		"$d/hand-heapmap.svg"
	[ "$(grep -c '<rect class="blk ' "$d/hand-heapmap.svg")" -ge 10 ]
}

@test "osmem-plot draws no heap map for a trace without block lines" {
	local d=$BATS_TEST_TMPDIR
	printf '%s\n' '# osmem trace: pid 7 (cut), backtraces on, depth 8' \
		'1000 7 malloc 10 -> 0x10 16 heap=131072 mapped=0' \
		'2000 7 malloc 20 -> 0x30 32 heap=131072 mapped=0' >"$d/cut.log"
	run "$PLOT" "$d/cut.log" -o "$d/out/x"
	echo "$output"
	[ "$status" -ne 0 ]   # no such directory: a clear message, no traceback
	[[ $output == *"cannot write $d/out/x-timeline.svg"* ]]
	[[ $output != *Traceback* ]]
	mkdir "$d/out"
	run "$PLOT" "$d/cut.log" -o "$d/out/x"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(peak_of "$output")" = 48 ]
	assert_xml "$d/out/x-timeline.svg"
	[ ! -e "$d/out/x-heapmap.svg" ]
}

@test "osmem-plot rejects a file that is not an osmem trace" {
	local d=$BATS_TEST_TMPDIR
	printf 'hello\nworld\n' >"$d/not.trace"
	run "$PLOT" "$d/not.trace"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"not an osmem trace"* ]]
	[[ $output != *Traceback* ]]
	[ ! -e "$d/not-timeline.svg" ]
	: >"$d/empty.trace"
	run "$PLOT" "$d/empty.trace"
	[ "$status" -ne 0 ]
	[[ $output == *"not an osmem trace"* ]]
	run "$PLOT" "$d/missing.trace"
	[ "$status" -ne 0 ]
	[[ $output == *"cannot read"* ]]
}

# Four windows of 300 ms after the frees: decay gives the 64 MiB back.
DECAY_WINDOW=300
FREED=$((64 << 20))

# Runs the decay scenario (tests/scenario/decay.c) medium 0 MODE under
# OSMEM_TRACE into DIR/MODE.trace, without stacks; checks that every call
# line records the resident bytes, that they rose above 50 MiB and that the
# peak came down by 90% of what was freed at least (what stays is the
# program's and the trace's own: its table of live blocks grew to 8 MiB).
# Sets $figures (rss_figures).
traced_decay() {
	local mode=$1 dir=$2
	run timeout 60 env OSMEM_DECAY_MS=$DECAY_WINDOW OSMEM_TRACE="$dir/$mode.trace" OSMEM_TRACE_DEPTH=0 \
		LD_PRELOAD="$LIB" "$BATS_FILE_TMPDIR/decay" medium 0 "$mode"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(tail -n 1 "$dir/$mode.trace")" = end ]
	figures=$(rss_figures "$dir/$mode.trace")
	echo "$figures"
	[ "$(figure lines "$figures")" -gt 1000 ]
	[ "$(figure with_rss "$figures")" -eq "$(figure lines "$figures")" ]
	[ "$(figure peak "$figures")" -gt $((50 << 20)) ]
	[ "$(figure decays "$figures")" -ge 1 ]
	[ "$(figure decay_min "$figures")" -le $(($(figure peak "$figures") - FREED * 9 / 10)) ]
}

@test "the trace records resident bytes and a decay line where they fall; osmem-plot draws the resident line coming down" {
	local d=$BATS_TEST_TMPDIR figures
	traced_decay calls "$d"
	# The calls after the pass see it too.
	[ "$(figure last "$figures")" -le $(($(figure peak "$figures") - FREED * 9 / 10)) ]
	grep -Em1 '^[0-9]+ [0-9]+ decay [0-9]+ heap=[0-9]+ mapped=[0-9]+ rss=[0-9]+$' "$d/calls.trace"

	run "$PLOT" "$d/calls.trace" -o "$d/calls"
	echo "$output"
	[ "$status" -eq 0 ]
	assert_xml "$d/calls-timeline.svg"
	[ "$(min_points "$d/calls-timeline.svg")" -ge 10 ]
	grep -q '>resident (rss=)<' "$d/calls-timeline.svg"
	grep -q '<line class="given decay"' "$d/calls-timeline.svg"
	# The summary's figures are the trace's.
	[[ $output == *", peak resident $(figure peak "$figures") bytes "* ]]
	[[ $output == *", final resident $(figure last "$figures") bytes "* ]]
	[[ $output =~ given\ back\ ([0-9]+)\ bytes\ .*\ in\ ([0-9]+)\ decay\ passes ]]
	[ "${BASH_REMATCH[1]}" -ge $((FREED / 2)) ]
	[ "${BASH_REMATCH[2]}" -eq "$(figure decays "$figures")" ]
	# The line reaches the top of the plot's data and ends far below it.
	local line
	line=$(resident_line "$d/calls-timeline.svg")
	echo "resident line, peak and end in thousandths of the plot: $line"
	[ "${line% *}" -ge 500 ]
	[ "${line#* }" -le $((${line% *} / 4)) ]
}

@test "an idle threaded process: the purger's decay lines show the resident bytes falling with no call made" {
	local d=$BATS_TEST_TMPDIR figures
	traced_decay idle "$d"
	# Only the purger gives back the threads' arenas while they are idle.
	[ "$(figure purger "$figures")" -ge 1 ]
	[ "$(figure purger_min "$figures")" -le $(($(figure peak "$figures") - FREED * 9 / 10)) ]
	run "$PLOT" "$d/idle.trace" -o "$d/idle"
	echo "$output"
	[ "$status" -eq 0 ]
	# Four threads of the program and its main one; the purger made no call.
	[[ $output == *" calls in 5 threads, "* ]]
	local line
	line=$(resident_line "$d/idle-timeline.svg")
	echo "resident line, peak and end in thousandths of the plot: $line"
	[ "${line#* }" -le $((${line% *} / 4)) ]
}

@test "a trace without rss= (before it was recorded) still plots, without the resident line" {
	local d=$BATS_TEST_TMPDIR new old py
	py=$(python3 -c 'import sys; print(sys.executable)')   # not a wrapper script
	run env OSMEM_TRACE="$d/new.trace" OSMEM_TRACE_DEPTH=0 LD_PRELOAD="$LIB" "$py" -c '
l = [str(i) * 50 for i in range(20000)]
del l[::2]
print(len(l))'
	[ "$status" -eq 0 ]
	# What older osmem wrote: no rss=, no decay or trim lines.
	sed -E -e '/^[0-9]+ [0-9]+ (decay|trim) /d' -e 's/ rss=[0-9]+//' "$d/new.trace" >"$d/old.trace"
	! grep -q 'rss=' "$d/old.trace"
	run "$PLOT" "$d/new.trace" -o "$d/new"
	echo "$output"
	[ "$status" -eq 0 ]
	new=$output
	run "$PLOT" "$d/old.trace" -o "$d/old"
	echo "$output"
	[ "$status" -eq 0 ]
	old=$output
	[[ $old == *", resident not in the trace, "* ]]
	[[ $old != *"lines were not understood"* ]]
	[ "$(peak_of "$old")" = "$(peak_of "$new")" ]
	assert_xml "$d/old-timeline.svg"
	grep -q 'class="series resident"' "$d/new-timeline.svg"
	! grep -q 'class="series resident"' "$d/old-timeline.svg"
	! grep -q '>resident (rss=)<' "$d/old-timeline.svg"
	[ "$(min_points "$d/old-timeline.svg")" -ge 10 ]
}
