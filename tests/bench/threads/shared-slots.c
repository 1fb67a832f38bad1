/* shared-slots: many threads replacing blocks in one table of slots they
 * all share (benchmark, not a test).
 *
 *   shared-slots THREADS [SCALE] [--corrupt]
 *
 * 4096 slots, shared by every thread. An operation mallocs a block of 1-2000
 * bytes, fills it, exchanges it into a random slot and checks and frees the
 * block it took out, most often one another thread made. The exchange is
 * atomic, so each block is taken out, and freed, by one thread only. With
 * far more threads than CPUs this is issue 19's 256-thread case: how much
 * memory an allocator keeps at its peak when each thread runs a whole time
 * slice while the others' blocks wait in the table. ops: replacements (one
 * malloc and one free), 10,240,000 times SCALE in all (40,000 a thread at
 * 256 threads).
 *
 * A slot holds the block's address and, above bit 48, its size. The content
 * pattern's owner is 0 for every block: the thread that frees a block does
 * not know who made it. */
#include "tb.h"

#define SLOTS 4096
#define MAX_SIZE 2000
#define BASE_OPS 10240000L
#define SIZE_SHIFT 48

static _Atomic uint64_t slots[SLOTS];
static pthread_barrier_t start;
static double t0;

/* tb_fill's pattern needs 8 bytes; a smaller block gets its key's bytes. */
static void fill(void *p, size_t n)
{
	if (n >= 8) {
		tb_fill(p, n, 0);
	} else {
		uint64_t k = tb_key(p, n, 0);
		memcpy(p, &k, n);
	}
}

static void check_and_free(uint64_t slot)
{
	void *p = (void *)(uintptr_t)(slot & ((1ULL << SIZE_SHIFT) - 1));
	size_t n = slot >> SIZE_SHIFT;

	if (n >= 8) {
		tb_check(p, n, 0);
	} else {
		uint64_t k = tb_key(p, n, 0), got = k;
		memcpy(&got, p, n);
		if (got != k)
			tb_report_damage(p, n, 0, 0, k, got);
	}
	free(p);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	uint64_t rng = 0xD1B54A32D192ED03ULL * (uint64_t)(i + 1);
	long ops = tb_share(BASE_OPS, i);

	pthread_barrier_wait(&start);
	if (i == 0)
		t0 = tb_now();
	for (long j = 0; j < ops; j++) {
		uint64_t r = rng_next(&rng);
		size_t n = 1 + (r >> 32) % MAX_SIZE;
		void *p = malloc(n);
		if (!p)
			tb_die("malloc failed");
		if ((uintptr_t)p >> SIZE_SHIFT)
			tb_die("an address above 2^48 does not fit a slot");
		fill(p, n);
		uint64_t old = atomic_exchange(&slots[r % SLOTS], (uint64_t)(uintptr_t)p | (uint64_t)n << SIZE_SHIFT);
		if (old)
			check_and_free(old);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long ops;
	double secs;

	tb_args("shared-slots", argc, argv);
	pthread_barrier_init(&start, NULL, tb_threads);
	tb_run(tb_threads, worker);
	secs = tb_now() - t0;
	ops = tb_total(BASE_OPS);
	for (int k = 0; k < SLOTS; k++)
		if (slots[k])
			check_and_free(slots[k]);
	tb_result(ops, secs);
	return 0;
}
