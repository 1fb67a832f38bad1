/* realloc_grow: buffers grown by realloc, as string builders and vectors
 * grow (benchmark, not a test).
 *
 *   realloc_grow [ROUNDS]
 *
 * Each round grows 64 buffers side by side, each to its own target size
 * (64 B to 2 MiB, roughly log-uniform), by appends of 1-256 bytes: half grow by the
 * appended amount, half by doubling their capacity as a vector does. Blocks of
 * the others lie between, so growth in place is not always possible. The
 * checksum covers the buffers' contents, read back before each free. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

#define NBUF 64

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
	return rng_next(&rng_state);
}

struct buf {
	unsigned char *p;
	size_t len, cap, target;
	int doubling;
};

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 40;
	uint64_t sum = 0, reallocs = 0;

	for (long r = 0; r < rounds; r++) {
		struct buf b[NBUF] = { 0 };
		int live = NBUF;
		for (int i = 0; i < NBUF; i++) {
			b[i].target = (size_t)64 << (rng() % 15);  /* 64 B .. 1 MiB, plus up to as much again */
			b[i].target += rng() % b[i].target;
			b[i].doubling = i & 1;
		}
		while (live) {
			for (int i = 0; i < NBUF; i++) {
				struct buf *x = &b[i];
				if (x->len >= x->target)
					continue;
				size_t add = 1 + rng() % 256;
				if (x->len + add > x->cap) {
					size_t cap = x->doubling ? (x->cap ? x->cap * 2 : 16) : x->len + add;
					if (cap < x->len + add)
						cap = x->len + add;
					unsigned char *p = realloc(x->p, cap);
					if (!p) {
						fprintf(stderr, "realloc(%zu) failed\n", cap);
						return 1;
					}
					x->p = p;
					x->cap = cap;
					reallocs++;
				}
				for (size_t k = 0; k < add; k++)
					x->p[x->len + k] = (unsigned char)(x->len + k + i);
				x->len += add;
				if (x->len >= x->target) {
					uint64_t h = 0;
					for (size_t k = 0; k < x->len; k += 61)
						h = h * 131 + x->p[k];
					sum = sum * 31 + h + x->len;
					free(x->p);
					x->p = NULL;
					live--;
				}
			}
		}
	}
	printf("realloc_grow rounds=%ld reallocs=%llu checksum=%016llx\n", rounds,
	       (unsigned long long)reallocs, (unsigned long long)sum);
	return 0;
}
