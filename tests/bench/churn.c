/* churn: malloc/free churn over a table of live blocks (benchmark, not a test).
 *
 *   churn small|mixed|large [OPS]
 *
 * small: 16-128 bytes, 8192 slots; mixed: 16-4096 bytes, 8192 slots;
 * large: 64 KiB-1 MiB, 64 slots, one byte written per page. Each operation
 * frees a random slot's block (reading bytes of it into the checksum) and
 * puts a new block of a random size there, writing its first and last bytes.
 * Sizes and slots come from a fixed-seed PRNG; the checksum covers only the
 * bytes read back, so the output line is the same under every allocator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
	return rng_next(&rng_state);
}

struct mode {
	const char *name;
	size_t lo, hi, slots;
	long ops;
	int touch_pages;
};

static const struct mode modes[] = {
	{ "small", 16, 128, 8192, 20000000, 0 },
	{ "mixed", 16, 4096, 8192, 4000000, 0 },
	{ "large", 64 << 10, 1 << 20, 64, 60000, 1 },
};

int main(int argc, char **argv)
{
	const struct mode *m = NULL;
	uint64_t sum = 0;

	for (size_t i = 0; argc > 1 && i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			m = &modes[i];
	if (!m) {
		fprintf(stderr, "usage: churn small|mixed|large [OPS]\n");
		return 2;
	}
	long ops = argc > 2 ? atol(argv[2]) : m->ops;
	unsigned char **slot = calloc(m->slots, sizeof *slot);
	size_t *len = calloc(m->slots, sizeof *len);
	if (!slot || !len)
		return 1;

	for (long op = 0; op < ops; op++) {
		size_t i = rng() % m->slots;
		size_t n = m->lo + rng() % (m->hi - m->lo + 1);
		if (slot[i]) {
			sum = sum * 31 + slot[i][0] + slot[i][len[i] - 1];
			free(slot[i]);
		}
		unsigned char *p = malloc(n);
		if (!p) {
			fprintf(stderr, "malloc(%zu) failed\n", n);
			return 1;
		}
		p[0] = (unsigned char)op;
		p[n - 1] = (unsigned char)(op >> 8);
		if (m->touch_pages)
			for (size_t k = 4096; k < n; k += 4096)
				p[k] = (unsigned char)k;
		slot[i] = p;
		len[i] = n;
	}
	for (size_t i = 0; i < m->slots; i++) {
		if (slot[i])
			sum = sum * 31 + slot[i][0] + slot[i][len[i] - 1];
		free(slot[i]);
	}
	free(slot);
	free(len);
	printf("churn %s ops=%ld checksum=%016llx\n", m->name, ops, (unsigned long long)sum);
	return 0;
}
