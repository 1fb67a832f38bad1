/* What the threaded benchmarks in tests/bench/threads share: the command
 * line, the content check, threads, the clock and the result line.
 *
 *   PROG THREADS [SCALE] [--corrupt]
 *
 * Every program does a fixed total amount of work, its base amount times
 * SCALE (default 1), split evenly among THREADS threads; scripts/bench-threads
 * passes SCALE = min(THREADS, CPUs), so a run lasts about as long on any
 * machine when the allocator scales. The result is one line on stdout:
 *
 *   PROG threads=T ops=N seconds=S ops_per_s=R check=ok
 *
 * where N operations (each program says what one is) took S seconds of the
 * timed part, measured inside the program.
 *
 * The content check: every block is filled, when it is allocated, with words
 * derived from its address, its size and the thread that owns it (its first
 * 64 bytes, one word in every 4 KiB and its last 8 bytes), and the words are
 * compared before the block is freed or reallocated. A difference prints
 * "PROG: content check failed: ..." on stderr and exits with status 3.
 * --corrupt flips one byte of one block after its fill, to show the check
 * catches it. */
#ifndef TB_H
#define TB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../rng.h"

#define TB_MAX_THREADS 256
#define TB_HEAD 64
#define TB_PAGE 4096
#define TB_CORRUPT_EXIT 3

static const char *tb_name;
static int tb_threads;
static double tb_scale = 1.0;
static int tb_corrupt;
static atomic_long tb_corrupt_countdown = 1;

static inline void tb_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", tb_name, what);
	exit(1);
}

static void tb_usage(void)
{
	fprintf(stderr, "usage: %s THREADS [SCALE]\n", tb_name);
	exit(2);
}

/* Parses THREADS [SCALE] [--corrupt]. */
static inline void tb_args(const char *name, int argc, char **argv)
{
	int pos = 0;

	tb_name = name;
	for (int i = 1; i < argc; i++) {
		char *end;
		if (strcmp(argv[i], "--corrupt") == 0) {
			tb_corrupt = 1;
		} else if (pos == 0) {
			long t = strtol(argv[i], &end, 10);
			if (*end || t < 1 || t > TB_MAX_THREADS)
				tb_usage();
			tb_threads = (int)t;
			pos++;
		} else if (pos == 1) {
			tb_scale = strtod(argv[i], &end);
			if (*end || !(tb_scale > 0))
				tb_usage();
			pos++;
		} else {
			tb_usage();
		}
	}
	if (pos == 0)
		tb_usage();
}

/* `base` operations times SCALE, at least one per thread: what the threads'
 * shares add up to. */
static inline long tb_total(long base)
{
	long total = (long)(base * tb_scale);

	return total < tb_threads ? tb_threads : total;
}

/* The share of thread i (of tb_threads) in tb_total(base). */
static inline long tb_share(long base, int i)
{
	long total = tb_total(base);

	return total / tb_threads + (i < total % tb_threads);
}

static inline uint64_t tb_key(const void *p, size_t n, unsigned owner)
{
	uint64_t k = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL ^
		     (uint64_t)n * 0xC2B2AE3D27D4EB4FULL ^ (uint64_t)owner * 0x165667B19E3779F9ULL;
	return k ^ (k >> 29);
}

static inline uint64_t tb_word(uint64_t key, size_t off)
{
	return key + off * 0xD6E8FEB86659FD93ULL;
}

/* Runs body with `off` at each offset the pattern covers: 0, 8, ... below
 * min(n, 64), then every 4 KiB, then n - 8 (n >= 8); the words before the
 * last one stop short of it, so no two overlap. */
#define TB_EACH_OFFSET(n, off, body)                                            \
	do {                                                                    \
		size_t off;                                                     \
		for (off = 0; off + 16 <= (n) && off < TB_HEAD; off += 8)       \
			body;                                                   \
		for (off = TB_PAGE; off + 16 <= (n); off += TB_PAGE)            \
			body;                                                   \
		off = (n) - 8;                                                  \
		body;                                                           \
	} while (0)

static inline void tb_fill(void *p, size_t n, unsigned owner)
{
	unsigned char *b = p;
	uint64_t key = tb_key(p, n, owner);

	TB_EACH_OFFSET(n, off, {
		uint64_t w = tb_word(key, off);
		memcpy(b + off, &w, 8);
	});
	if (tb_corrupt && atomic_fetch_sub(&tb_corrupt_countdown, 1) == 1)
		b[n - 1] ^= 0x5a;      /* --corrupt: the first block filled */
}

static void tb_report_damage(const void *p, size_t n, unsigned owner, size_t off, uint64_t want,
			     uint64_t got)
{
	fprintf(stderr, "%s: content check failed: block %p of %zu bytes (owner thread %u): "
		"word at offset %zu is %016llx, expected %016llx\n",
		tb_name, p, n, owner, off, (unsigned long long)got, (unsigned long long)want);
	exit(TB_CORRUPT_EXIT);
}

/* Compares the first `len` bytes' pattern words of block p against the
 * pattern of a block at `was` of `n` bytes (was == p but for a realloc). */
static inline void tb_check_as(const void *p, size_t len, const void *was, size_t n, unsigned owner)
{
	const unsigned char *b = p;
	uint64_t key = tb_key(was, n, owner);

	TB_EACH_OFFSET(n, off, {
		uint64_t w;
		if (off + 8 <= len) {
			memcpy(&w, b + off, 8);
			if (w != tb_word(key, off))
				tb_report_damage(p, n, owner, off, tb_word(key, off), w);
		}
	});
}

static inline void tb_check(const void *p, size_t n, unsigned owner)
{
	tb_check_as(p, n, p, n, owner);
}

static inline void *tb_malloc(size_t n, unsigned owner)
{
	void *p = malloc(n);

	if (!p) {
		fprintf(stderr, "%s: malloc(%zu) failed\n", tb_name, n);
		exit(1);
	}
	tb_fill(p, n, owner);
	return p;
}

static inline void tb_free(void *p, size_t n, unsigned owner)
{
	tb_check(p, n, owner);
	free(p);
}

/* realloc with the check: the old block's words, then those it keeps. */
static inline void *tb_realloc(void *p, size_t old, size_t n, unsigned owner)
{
	uintptr_t was = (uintptr_t)p;
	size_t keep = old < n ? old : n;
	void *q;

	tb_check(p, old, owner);
	q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "%s: realloc(%zu) failed\n", tb_name, n);
		exit(1);
	}
	tb_check_as(q, keep < TB_HEAD ? keep : TB_HEAD, (void *)was, old, owner);
	tb_fill(q, n, owner);
	return q;
}

static inline double tb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Runs fn(i) on threads 0 .. n-1 and waits for them. */
static inline void tb_run(int n, void *(*fn)(void *))
{
	pthread_t th[TB_MAX_THREADS];

	for (long i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, fn, (void *)i))
			tb_die("pthread_create failed");
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static inline void tb_result(long ops, double seconds)
{
	printf("%s threads=%d ops=%ld seconds=%.6f ops_per_s=%.0f check=ok\n", tb_name, tb_threads,
	       ops, seconds, seconds > 0 ? ops / seconds : 0.0);
}

#endif
