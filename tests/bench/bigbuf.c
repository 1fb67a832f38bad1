/* bigbuf: big buffers, allocated, touched and freed over and over
 * (benchmark, not a test), as a program reading files into buffers does.
 *
 *   bigbuf [ITERS]
 *
 * Keeps up to 4 buffers of 256 KiB-4 MiB live; each iteration frees one (after
 * reading a byte of each page into the checksum) and allocates another of a
 * random size, writing one byte per page and the first 4 KiB in full. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define LIVE 4

static uint64_t rng_state = 0xBF58476D1CE4E5B9ULL;

static uint64_t rng(void)
{
	return rng_next(&rng_state);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 3000;
	unsigned char *buf[LIVE] = { 0 };
	size_t len[LIVE] = { 0 };
	uint64_t sum = 0;

	for (long it = 0; it < iters + LIVE; it++) {
		int i = (int)(rng() % LIVE);
		if (buf[i]) {
			for (size_t k = 0; k < len[i]; k += 4096)
				sum = sum * 31 + buf[i][k];
			sum += buf[i][len[i] - 1];
			free(buf[i]);
			buf[i] = NULL;
		}
		if (it >= iters)
			continue;
		size_t n = (256u << 10) + rng() % ((4u << 20) - (256u << 10) + 1);
		unsigned char *p = malloc(n);
		if (!p) {
			fprintf(stderr, "malloc(%zu) failed\n", n);
			return 1;
		}
		memset(p, (int)it, 4096);
		for (size_t k = 4096; k < n; k += 4096)
			p[k] = (unsigned char)(k >> 12);
		p[n - 1] = (unsigned char)it;
		buf[i] = p;
		len[i] = n;
	}
	for (int i = 0; i < LIVE; i++)
		free(buf[i]);
	printf("bigbuf iters=%ld checksum=%016llx\n", iters, (unsigned long long)sum);
	return 0;
}
