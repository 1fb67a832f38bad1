/* larson: server-style churn after Larson and Krishnan, on T threads
 * (benchmark, not a test).
 *
 *   larson THREADS [SCALE] [--corrupt]
 *
 * Each thread holds 1000 slots of blocks of 16-1024 bytes: 750 of its own
 * and one segment of 250 from a ring of T shared segments. An operation
 * picks a random slot, frees its block (checking the content) and puts a
 * new block of a random size there. The work is split into 8 rounds; after
 * each round every thread moves on to the next thread's segment, so a
 * quarter of the blocks a thread allocated are freed by another thread.
 * ops: replacements (one free and one malloc), 8M times SCALE in all. */
#include "tb.h"

#define SLOTS  1000
#define SEG    250
#define OWN    (SLOTS - SEG)
#define ROUNDS 8
#define BASE_OPS 8000000L

struct slot {
	void *p;
	unsigned n, owner;
};

static struct slot own[TB_MAX_THREADS][OWN];
static struct slot seg[TB_MAX_THREADS][SEG];
static pthread_barrier_t barrier;
static double t0;

static void replace(struct slot *s, uint64_t *rng, unsigned me)
{
	if (s->p)
		tb_free(s->p, s->n, s->owner);
	s->n = 16 + rng_next(rng) % 1009;
	s->owner = me;
	s->p = tb_malloc(s->n, me);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
	long ops = tb_share(BASE_OPS, i);

	for (int k = 0; k < OWN; k++)
		replace(&own[i][k], &rng, i);
	for (int k = 0; k < SEG; k++)
		replace(&seg[i][k], &rng, i);
	pthread_barrier_wait(&barrier);
	if (i == 0)
		t0 = tb_now();
	for (int r = 0; r < ROUNDS; r++) {
		struct slot *mine = seg[(i + r) % tb_threads];
		long n = ops / ROUNDS + (r < ops % ROUNDS);
		for (long j = 0; j < n; j++) {
			unsigned k = rng_next(&rng) % SLOTS;
			replace(k < OWN ? &own[i][k] : &mine[k - OWN], &rng, i);
		}
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long ops = 0;

	tb_args("larson", argc, argv);
	pthread_barrier_init(&barrier, NULL, tb_threads);
	tb_run(tb_threads, worker);
	double secs = tb_now() - t0;
	for (int i = 0; i < tb_threads; i++) {
		ops += tb_share(BASE_OPS, i);
		for (int k = 0; k < OWN; k++)
			tb_free(own[i][k].p, own[i][k].n, own[i][k].owner);
		for (int k = 0; k < SEG; k++)
			tb_free(seg[i][k].p, seg[i][k].n, seg[i][k].owner);
	}
	tb_result(ops, secs);
	return 0;
}
