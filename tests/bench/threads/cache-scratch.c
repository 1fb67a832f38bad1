/* cache-scratch: passive false sharing, after Hoard's cache-scratch
 * (benchmark, not a test).
 *
 *   cache-scratch THREADS [SCALE] [--corrupt]
 *
 * The main thread allocates one 16-byte object per thread, one after the
 * other, so several share a cache line. Each thread frees the object it was
 * given, then over and over allocates a 16-byte object of its own, writes it
 * 100 times, checks it and frees it. An allocator that hands a thread memory
 * on the same cache line as another thread's object (the freed object
 * itself, or its neighbour) makes the cores fight over the line, and the
 * writes slow down by an order of magnitude. ops: writes, 500M times SCALE
 * in all. */
#include "tb.h"

#define OBJ 16
#define WRITES 100
#define BASE_OPS 500000000L

static void *given[TB_MAX_THREADS];

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	long rounds = tb_share(BASE_OPS, i) / WRITES;

	tb_free(given[i], OBJ, TB_MAX_THREADS);
	for (long r = 0; r < rounds; r++) {
		volatile uint64_t *v = tb_malloc(OBJ, i);
		uint64_t last = v[1];
		for (uint64_t j = 0; j < WRITES; j++)
			v[1] = last ^ j;
		if (v[1] != (last ^ (WRITES - 1)))
			tb_die("content check failed: a write to the object was lost");
		v[1] = last;
		tb_free((void *)v, OBJ, i);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long ops = 0;
	double t0;

	tb_args("cache-scratch", argc, argv);
	for (int i = 0; i < tb_threads; i++) {
		given[i] = tb_malloc(OBJ, TB_MAX_THREADS);
		ops += tb_share(BASE_OPS, i) / WRITES * WRITES;
	}
	t0 = tb_now();
	tb_run(tb_threads, worker);
	tb_result(ops, tb_now() - t0);
	return 0;
}
