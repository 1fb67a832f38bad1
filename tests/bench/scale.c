/* Scale benchmark (not a test): does the cost of an operation stay flat as
 * the number of live blocks grows? For N = 1e3, 1e4, 1e5, 1e6 live blocks:
 * fill N slots with random sizes, free a random half and refill (so the heap
 * is fragmented), then time a random mix of operations (~60% free + malloc of
 * a new size, ~40% realloc to a new size) in two ways:
 *   hot:     on HOT (1000) of the N slots, the rest staying live around them,
 *            as in a program whose recent objects churn while old ones stay:
 *            this shows what the allocator's own work costs as N grows;
 *   uniform: on any of the N slots: every victim is a cache (and TLB) miss
 *            once N outgrows the caches, for any allocator.
 * Reports ns per op, the median of ROUNDS timed rounds, and the ratio to N=1e3.
 *
 *   scale [--max N] [--ops K]     K = operations per timed round
 *
 * Built with -DBENCH_LIBC it measures the libc malloc/realloc/free instead of
 * the osmem core, for comparison:
 *   cc -std=gnu11 -O2 -DBENCH_LIBC -o scale-libc tests/bench/scale.c
 *
 * The core version must not call glibc's malloc (it would move the break under
 * the core): slot arrays come from mmap and output is snprintf (integer
 * formats only, which do not allocate) plus write(2). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef BENCH_LIBC
#define A_MALLOC(n)     malloc(n)
#define A_REALLOC(p, n) realloc((p), (n))
#define A_FREE(p)       free(p)
#define A_NAME          "libc malloc"
#else
#include "osmem.h"
#define A_MALLOC(n)     os_malloc(n)
#define A_REALLOC(p, n) os_realloc((p), (n))
#define A_FREE(p)       os_free(p)
#define A_NAME          "osmem core (os_*)"
#endif

#define ROUNDS 5

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static inline uint64_t rnd(void)
{
	uint64_t x = rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng = x;
}

/* Multiply-shift instead of %: unbiased enough here and cheaper. */
static inline size_t below(size_t n) { return (size_t)(((unsigned __int128)rnd() * n) >> 64); }

/* Mostly 16..512 bytes, one in ten up to 4 KiB. */
static inline size_t draw_size(void)
{
	if (below(10) == 0)
		return 16 + below(4096 - 16 + 1);
	return 16 + below(512 - 16 + 1);
}

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void die(const char *s)
{
	(void)!write(2, s, strlen(s));
	exit(1);
}

static void *xalloc(size_t n)
{
	void *p = A_MALLOC(n);

	if (!p)
		die("scale: allocation failed\n");
	*(volatile char *)p = 1;   /* touch it, as a program would */
	return p;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sort_u64(uint64_t *t, size_t n)   /* insertion sort: no qsort, no malloc */
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
			uint64_t x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
}

/* One timed round of k operations over n slots; returns elapsed ns. */
#define HOT 1000

/* One timed round of k operations over the first n slots; returns elapsed ns. */
static uint64_t run_round(void **slot, size_t n, size_t k)
{
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < k; i++) {
		size_t j = below(n);

		if (below(10) < 6) {
			A_FREE(slot[j]);
			slot[j] = xalloc(draw_size());
		} else {
			void *q = A_REALLOC(slot[j], draw_size());

			if (!q)
				die("scale: realloc failed\n");
			slot[j] = q;
		}
	}
	return now_ns() - t0;
}

static size_t parse(const char *s)
{
	char *end;
	double v = strtod(s, &end);   /* accepts 1e6 as well as 1000000 */

	if (end == s || *end || v < 1)
		die("scale: bad number\n");
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t max_n = 1000000, ops = 400000, n, i;
	uint64_t base_ps[2] = { 0, 0 };
	void **slot;
	size_t slot_bytes;
	char line[256];

	for (int a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--max") && a + 1 < argc)
			max_n = parse(argv[++a]);
		else if (!strcmp(argv[a], "--ops") && a + 1 < argc)
			ops = parse(argv[++a]);
		else
			die("usage: scale [--max N] [--ops K]\n");
	}

	if (max_n < 1000)
		max_n = 1000;
	slot_bytes = max_n * sizeof *slot;
	slot = mmap(NULL, slot_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slot == MAP_FAILED)
		die("scale: mmap of the slot array failed\n");

	snprintf(line, sizeof line, "scale: %s, %zu ops per round, median of %d rounds\n",
		 A_NAME, ops, ROUNDS);
	say(line);
	say("         N   hot ns/op  ratio   uniform ns/op  ratio\n");
	for (n = 1000; n <= max_n; n *= 10) {
		uint64_t ps[2];

		/* Fill, then free a random half and refill: a fragmented heap. */
		for (i = 0; i < n; i++)
			slot[i] = xalloc(draw_size());
		for (i = 0; i < n; i++)
			if (below(2)) {
				A_FREE(slot[i]);
				slot[i] = NULL;
			}
		for (i = 0; i < n; i++)
			if (!slot[i])
				slot[i] = xalloc(draw_size());

		for (int mode = 0; mode < 2; mode++) {
			size_t m = mode == 0 && n > HOT ? HOT : n;
			uint64_t t[ROUNDS];

			run_round(slot, m, ops / 10 + 1);   /* warm-up */
			for (int r = 0; r < ROUNDS; r++)
				t[r] = run_round(slot, m, ops);
			sort_u64(t, ROUNDS);
			ps[mode] = t[ROUNDS / 2] * 1000 / ops;    /* picoseconds per op */
			if (!base_ps[mode])
				base_ps[mode] = ps[mode] ? ps[mode] : 1;
		}
		snprintf(line, sizeof line, "%10zu %8lu.%02lu %3lu.%02lu %12lu.%02lu %4lu.%02lu\n", n,
			 (unsigned long)(ps[0] / 1000), (unsigned long)(ps[0] % 1000 / 10),
			 (unsigned long)(ps[0] * 100 / base_ps[0] / 100), (unsigned long)(ps[0] * 100 / base_ps[0] % 100),
			 (unsigned long)(ps[1] / 1000), (unsigned long)(ps[1] % 1000 / 10),
			 (unsigned long)(ps[1] * 100 / base_ps[1] / 100), (unsigned long)(ps[1] * 100 / base_ps[1] % 100));
		say(line);

		for (i = 0; i < n; i++)
			A_FREE(slot[i]);
	}
	munmap(slot, slot_bytes);
	return 0;
}
