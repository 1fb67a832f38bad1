/* live_heap: a large live heap, one block replaced at a time (benchmark,
 * not a test).
 *
 *   live_heap [N [REPLACEMENTS]] [--untouched] [--corrupt]
 *
 * N live blocks (default 100,000) of 16 bytes-8 KiB, half of them up to 512
 * bytes (uniform in 16-512 half the time, in 513-8192 otherwise: about 2.3
 * KiB on average), then REPLACEMENTS (default 1,000,000) replacements: a
 * random slot's block is freed and a block of a new random size put there.
 * Slots and sizes come from a fixed-seed PRNG, so every allocator sees the
 * same requests. Each new block is written whole, as a program fills what it
 * allocates; with --untouched only its first and last 8 bytes are, which
 * leaves the allocator's own cost (its metadata's cache misses above all).
 * Once N outgrows the caches, every victim is a cache and TLB miss for any
 * allocator; what differs is what else the allocator touches: neighbours'
 * headers, a free index, size-class lists.
 *
 * The content check: a block's first and last 8 bytes carry a word derived
 * from its slot and size and the word's complement, compared before it is
 * freed (at its replacement and at the end), so two slots given the same
 * memory, or a block the allocator wrote into, fail it. A failure prints
 * "live_heap: content check failed: ..." on stderr and exits with status 3;
 * --corrupt flips one byte of one block after its fill, to show the check
 * catches it. The output line depends only on the arguments. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define CORRUPT_EXIT 3

static uint64_t rng_state = 0x6A09E667F3BCC909ULL;
static int untouched;

static inline uint64_t rng(void)
{
	return rng_next(&rng_state);
}

static inline size_t draw_size(void)
{
	uint64_t r = rng();

	return r & 1 ? 16 + (r >> 1) % 497 : 513 + (r >> 1) % 7680;
}

static inline uint64_t tag(size_t slot, size_t n)
{
	return (uint64_t)(slot + 1) * 0x9E3779B97F4A7C15ULL ^ n;
}

static unsigned char *fill(size_t slot, size_t n)
{
	unsigned char *p = malloc(n);
	uint64_t t = tag(slot, n), nt = ~t;

	if (!p) {
		fprintf(stderr, "live_heap: malloc(%zu) failed\n", n);
		exit(1);
	}
	if (!untouched)
		memset(p, (int)slot, n);
	memcpy(p, &t, 8);
	memcpy(p + n - 8, &nt, 8);
	return p;
}

static void drop(unsigned char *p, size_t slot, size_t n)
{
	uint64_t head, tail;

	memcpy(&head, p, 8);
	memcpy(&tail, p + n - 8, 8);
	if (head != tag(slot, n) || tail != ~tag(slot, n)) {
		fprintf(stderr, "live_heap: content check failed: slot %zu (%zu bytes at %p)\n",
			slot, n, (void *)p);
		exit(CORRUPT_EXIT);
	}
	free(p);
}

static void usage(void)
{
	fprintf(stderr, "usage: live_heap [N [REPLACEMENTS]] [--untouched] [--corrupt]\n");
	exit(2);
}

static long number(const char *s)
{
	char *end;
	double v = strtod(s, &end);	/* 1e6 as well as 1000000 */

	if (end == s || *end || v < 1 || v > 1e12)
		usage();
	return (long)v;
}

int main(int argc, char **argv)
{
	long n = 100000, replacements = 1000000;
	int pos = 0, corrupt = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--untouched") == 0) {
			untouched = 1;
		} else if (strcmp(argv[i], "--corrupt") == 0) {
			corrupt = 1;
		} else if (pos == 0) {
			n = number(argv[i]);
			pos++;
		} else if (pos == 1) {
			replacements = number(argv[i]);
			pos++;
		} else {
			usage();
		}
	}
	unsigned char **slot = malloc(n * sizeof *slot);
	unsigned short *len = malloc(n * sizeof *len);	/* sizes are at most 8192 */
	if (!slot || !len)
		return 1;

	for (long j = 0; j < n; j++) {
		len[j] = (unsigned short)draw_size();
		slot[j] = fill(j, len[j]);
		if (corrupt && j == n / 2)
			slot[j][0] ^= 1;
	}
	for (long r = 0; r < replacements; r++) {
		size_t j = rng() % n;

		drop(slot[j], j, len[j]);
		len[j] = (unsigned short)draw_size();
		slot[j] = fill(j, len[j]);
	}
	for (long j = 0; j < n; j++)
		drop(slot[j], j, len[j]);
	free(slot);
	free(len);
	printf("live_heap n=%ld replacements=%ld%s check=ok\n", n, replacements,
	       untouched ? " untouched" : "");
	return 0;
}
