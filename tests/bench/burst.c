/* burst: bursts of same-size blocks, malloc'd in a row and then freed
 * (benchmark, not a test).
 *
 *   burst SIZE|mixed [PAIRS] [--blocks N,...] [--corrupt]
 *
 * The shape of glibc's bench-malloc-simple, written anew: PAIRS malloc/free
 * pairs in all (default 40,000,000), split evenly among three passes and the
 * burst lengths N of each pass (default 25, 100, 400 and 1600 blocks), as
 * rounds of N mallocs followed by the N frees,
 * the frees in allocation order (FIFO) on even rounds and in reverse (LIFO)
 * on odd ones. The whole set runs three times: in the main thread before any
 * other thread exists, in a second thread (the main one waiting for it), and
 * in the main thread again now that the process has had a thread, as an
 * allocator may take a single-thread shortcut until then. Only one thread
 * runs at a time.
 *
 * SIZE (16-65536) gives every block that size; mixed draws each block's size
 * from 16-128 bytes (a fixed table, so every allocator sees the same
 * requests).
 *
 * The content check: each block gets a word derived from its burst position
 * and round in its first 8 bytes and the word's complement in its last 8,
 * both compared before the free, so two blocks that overlap, or a block the
 * allocator wrote into, fail it. A failure prints "burst: content check
 * failed: ..." on stderr and exits with status 3; --corrupt flips one word
 * after it is written, to show the check catches it. The output line depends
 * only on the arguments, so it is the same under every allocator. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define MAX_BLOCKS 100000
#define MAX_LENGTHS 16
#define SIZES 4096		/* the mixed sizes table; a power of two */
#define CORRUPT_EXIT 3

static size_t fixed_size;	/* 0: mixed */
static unsigned short sizes[SIZES];
static long lengths[MAX_LENGTHS] = { 25, 100, 400, 1600 };
static int nlengths = 4;
static long pairs = 40000000;
static int corrupt;

static void usage(void)
{
	fprintf(stderr, "usage: burst SIZE|mixed [PAIRS] [--blocks N,...] [--corrupt]\n");
	exit(2);
}

static inline size_t block_size(long i, long round)
{
	return fixed_size ? fixed_size : sizes[(size_t)(i + round) & (SIZES - 1)];
}

/* The word block i of a round carries: nonzero and different for every
 * position, so a block handed out twice in one burst is caught. */
static inline uint64_t tag(long i, long round)
{
	return (uint64_t)(i + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)round;
}

static void check(unsigned char *p, long i, long round)
{
	uint64_t head, tail;
	size_t n = block_size(i, round);

	memcpy(&head, p, 8);
	memcpy(&tail, p + n - 8, 8);
	if (head != tag(i, round) || tail != ~tag(i, round)) {
		fprintf(stderr, "burst: content check failed: block %ld of round %ld (%zu bytes at %p)\n",
			i, round, n, (void *)p);
		exit(CORRUPT_EXIT);
	}
	free(p);
}

/* rounds bursts of n blocks, through arr. */
static void bursts(unsigned char **arr, long n, long rounds)
{
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < n; i++) {
			size_t size = block_size(i, r);
			unsigned char *p = malloc(size);
			uint64_t t = tag(i, r), nt = ~t;

			if (!p) {
				fprintf(stderr, "burst: malloc(%zu) failed\n", size);
				exit(1);
			}
			memcpy(p, &t, 8);
			memcpy(p + size - 8, &nt, 8);
			arr[i] = p;
		}
		if (corrupt && r == rounds / 2) {
			arr[n / 2][0] ^= 1;
			corrupt = 0;
		}
		if (r & 1)
			for (long i = n - 1; i >= 0; i--)
				check(arr[i], i, r);
		else
			for (long i = 0; i < n; i++)
				check(arr[i], i, r);
	}
}

/* One pass over every burst length: a third of PAIRS, shared evenly. */
static void *pass(void *arg)
{
	unsigned char **arr = arg;

	for (int k = 0; k < nlengths; k++) {
		long rounds = pairs / (3 * nlengths) / lengths[k];
		bursts(arr, lengths[k], rounds > 0 ? rounds : 1);
	}
	return NULL;
}

static void parse_lengths(char *s)
{
	nlengths = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		char *end;
		long n = strtol(tok, &end, 10);

		if (*end || n < 1 || n > MAX_BLOCKS || nlengths == MAX_LENGTHS)
			usage();
		lengths[nlengths++] = n;
	}
	if (nlengths == 0)
		usage();
}

int main(int argc, char **argv)
{
	const char *shape = NULL;
	int pos = 0;
	uint64_t seed = 0x2545F4914F6CDD1DULL;
	pthread_t t;

	for (int i = 1; i < argc; i++) {
		char *end;

		if (strcmp(argv[i], "--corrupt") == 0) {
			corrupt = 1;
		} else if (strcmp(argv[i], "--blocks") == 0 && i + 1 < argc) {
			parse_lengths(argv[++i]);
		} else if (pos == 0) {
			shape = argv[i];
			pos++;
		} else if (pos == 1) {
			pairs = strtol(argv[i], &end, 10);
			if (*end || pairs < 1)
				usage();
			pos++;
		} else {
			usage();
		}
	}
	if (!shape)
		usage();
	if (strcmp(shape, "mixed") != 0) {
		char *end;
		long n = strtol(shape, &end, 10);

		if (*end || n < 16 || n > 65536)
			usage();
		fixed_size = (size_t)n;
	}
	for (size_t i = 0; i < SIZES; i++)
		sizes[i] = (unsigned short)(16 + rng_next(&seed) % 113);

	/* The pointer array is allocated once, outside the timed bursts. */
	unsigned char **arr = malloc(MAX_BLOCKS * sizeof *arr);
	if (!arr)
		return 1;
	pass(arr);
	if (pthread_create(&t, NULL, pass, arr) || pthread_join(t, NULL)) {
		fprintf(stderr, "burst: pthread_create failed\n");
		return 1;
	}
	pass(arr);
	free(arr);
	printf("burst %s pairs=%ld blocks=", shape, pairs);
	for (int k = 0; k < nlengths; k++)
		printf("%s%ld", k ? "," : "", lengths[k]);
	printf(" check=ok\n");
	return 0;
}
