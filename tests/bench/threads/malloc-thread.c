/* malloc-thread: a purely thread-local loop in the manner of glibc's
 * bench-malloc-thread (benchmark, not a test).
 *
 *   malloc-thread THREADS [SCALE] [--corrupt]
 *
 * Each thread keeps its own working set of 1024 blocks and replaces random
 * ones with blocks of a random size: half of them 16-256 bytes, half 16-4096
 * bytes. No block crosses threads, so this measures how well the allocator
 * keeps threads out of each other's way. ops: replacements (one free and
 * one malloc), 4M times SCALE in all. */
#include "tb.h"

#define SLOTS 1024
#define BASE_OPS 4000000L

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	uint64_t rng = 0x2545F4914F6CDD1DULL * (uint64_t)(i + 1);
	long ops = tb_share(BASE_OPS, i);
	void **p = calloc(SLOTS, sizeof *p);
	unsigned *n = calloc(SLOTS, sizeof *n);

	if (!p || !n)
		tb_die("calloc failed");
	for (long j = 0; j < ops; j++) {
		uint64_t r = rng_next(&rng);
		unsigned k = r % SLOTS;
		if (p[k])
			tb_free(p[k], n[k], i);
		n[k] = (r >> 32 & 1) ? 16 + (r >> 33) % 241 : 16 + (r >> 33) % 4081;
		p[k] = tb_malloc(n[k], i);
	}
	for (unsigned k = 0; k < SLOTS; k++)
		if (p[k])
			tb_free(p[k], n[k], i);
	free(p);
	free(n);
	return NULL;
}

int main(int argc, char **argv)
{
	long ops;
	double t0;

	tb_args("malloc-thread", argc, argv);
	ops = tb_total(BASE_OPS);
	t0 = tb_now();
	tb_run(tb_threads, worker);
	tb_result(ops, tb_now() - t0);
	return 0;
}
