/* live_million: a million live blocks (benchmark, not a test).
 *
 *   live_million [N] [ROUNDS]
 *
 * Each round allocates N (default 1,000,000) blocks of 16-256 bytes, fills
 * each, reads them all back in allocation order, then frees them in a random
 * order (a fixed-seed shuffle). The checksum covers the bytes read back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static uint64_t rng_state = 0xD1B54A32D192ED03ULL;

static uint64_t rng(void)
{
	return rng_next(&rng_state);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long rounds = argc > 2 ? atol(argv[2]) : 1;
	unsigned char **p = malloc(n * sizeof *p);
	unsigned short *len = malloc(n * sizeof *len);
	uint32_t *order = malloc(n * sizeof *order);
	uint64_t sum = 0;

	if (!p || !len || !order)
		return 1;
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < n; i++) {
			len[i] = (unsigned short)(16 + rng() % 241);
			p[i] = malloc(len[i]);
			if (!p[i]) {
				fprintf(stderr, "malloc failed at block %ld\n", i);
				return 1;
			}
			memset(p[i], (int)(i + r), len[i]);
		}
		for (long i = 0; i < n; i++)
			sum = sum * 31 + p[i][0] + p[i][len[i] - 1] + len[i];
		for (long i = 0; i < n; i++)
			order[i] = (uint32_t)i;
		for (long i = n - 1; i > 0; i--) {
			long j = (long)(rng() % (uint64_t)(i + 1));
			uint32_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (long i = 0; i < n; i++) {
			unsigned char *q = p[order[i]];
			sum = sum * 31 + q[len[order[i]] / 2];
			free(q);
		}
	}
	free(p);
	free(len);
	free(order);
	printf("live_million n=%ld rounds=%ld checksum=%016llx\n", n, rounds, (unsigned long long)sum);
	return 0;
}
