/* Scenario 14 (SPEC rule 31): 8 threads x N random operations (default N =
 * 1000000, or argv[1]): malloc, calloc, realloc, memalign and free of random
 * sizes (1..4096, one in 128 up to 256 KiB), every block filled with a pattern
 * of its own and checked before it is reallocated or freed; calloc memory
 * checked to be zero; blocks handed between threads through a shared,
 * mutex-protected exchange array, so that many are reallocated and freed by
 * another thread than the one that allocated them. The exchange starts with
 * blocks the main thread made and grew while it was the only thread, half
 * of them mapped (osmem links its mapped blocks without a lock until a
 * second thread starts): the threads resize and free them beside their own.
 *
 * Usage: threads [ops-per-thread [threads]] */
#include "scenario.h"

#include <pthread.h>

#define SLOTS 512
#define XCHG 1024

struct blk { char *p; size_t n; uint64_t seed; };

static struct blk xchg[XCHG];
static size_t nxchg;
static pthread_mutex_t xlock = PTHREAD_MUTEX_INITIALIZER;
static long ops = 1000000;
static uint64_t taken[64];   /* blocks each thread took from the exchange */

static size_t rand_size(uint64_t *rs)
{
	uint64_t r = rng_next(rs);

	if (r % 128 == 0)   /* one in 128: up to 256 KiB, often mapped */
		return (size_t)(r >> 8) % (256 * 1024) + 1;
	return (size_t)(r >> 8) % 4096 + 1;
}

static void verify(const struct blk *b, int t, const char *when)
{
	if (!pat_ok(b->p, b->n, b->seed))
		FAIL("thread %d: block %p (%zu bytes, seed %llx) corrupted %s", t, (void *)b->p, b->n,
		     (unsigned long long)b->seed, when);
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	uint64_t rs = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1), gen = (uint64_t)t << 48;
	struct blk s[SLOTS];
	long i;

	memset(s, 0, sizeof s);
	for (i = 0; i < ops; i++) {
		uint64_t r = rng_next(&rs);
		struct blk *b = &s[r % SLOTS];
		unsigned op = (unsigned)(r >> 32) % 100;

		if (op < 8) {
			/* Exchange: give a full slot away, or take one into an empty slot. */
			pthread_mutex_lock(&xlock);
			if (b->p && nxchg < XCHG) {
				xchg[nxchg++] = *b;
				b->p = NULL;
			} else if (!b->p && nxchg > 0) {
				size_t k = (size_t)(r >> 16) % nxchg;
				*b = xchg[k];
				xchg[k] = xchg[--nxchg];
				taken[t]++;
			}
			pthread_mutex_unlock(&xlock);
			if (b->p)
				verify(b, t, "after it crossed threads");
			continue;
		}
		if (!b->p) {
			size_t n = rand_size(&rs);
			b->n = n;
			b->seed = ++gen;
			if (op < 60) {
				b->p = malloc(n);
			} else if (op < 80) {
				b->p = calloc(1, n);
				if (b->p && !all_zero(b->p, n))
					FAIL("thread %d: calloc(1, %zu) = %p is not zeroed", t, n, (void *)b->p);
			} else if (op < 90) {
				b->p = realloc(NULL, n);
			} else {
				size_t al = (size_t)32 << (r % 5);
				b->p = memalign(al, n);
				if (b->p && !aligned_to(b->p, al))
					FAIL("thread %d: memalign(%zu, %zu) = %p", t, al, n, (void *)b->p);
			}
			if (!b->p)
				FAIL("thread %d: allocation of %zu bytes failed (errno %d)", t, n, errno);
			if (!aligned_to(b->p, 16))
				FAIL("thread %d: %p is not 16-aligned", t, (void *)b->p);
			pat_fill(b->p, n, b->seed);
			continue;
		}
		verify(b, t, "before realloc/free");
		if (op < 60) {
			free(b->p);
			b->p = NULL;
		} else {
			size_t n = rand_size(&rs), keep = n < b->n ? n : b->n;
			char *q = realloc(b->p, n);
			if (!q)
				FAIL("thread %d: realloc(%zu -> %zu) failed (errno %d)", t, b->n, n, errno);
			if (!pat_ok(q, keep, b->seed))
				FAIL("thread %d: realloc(%zu -> %zu) lost the contents", t, b->n, n);
			b->p = q;
			b->n = n;
			b->seed = ++gen;
			pat_fill(q, n, b->seed);
		}
	}
	for (i = 0; i < SLOTS; i++) {
		if (s[i].p) {
			verify(&s[i], t, "at the end");
			free(s[i].p);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int nthreads = 8, t;
	pthread_t th[64];
	uint64_t cross = 0;
	size_t k;

	require_osmem("threads");
	if (argc > 1)
		ops = atol(argv[1]);
	if (argc > 2)
		nthreads = atoi(argv[2]);
	CHECK(ops > 0 && nthreads > 0 && nthreads <= 64, "usage: threads [ops-per-thread [threads]]");

	for (uint64_t rs = 1; nxchg < 64; nxchg++) {
		struct blk *b = &xchg[nxchg];
		size_t to = nxchg % 2 ? (128 << 10) + rng_next(&rs) % (896 << 10) : 1 + rng_next(&rs) % 4096;

		b->p = NULL;
		for (b->n = to / 4 + 1;; b->n = b->n * 2 < to ? b->n * 2 : to) {   /* grown in steps */
			char *q = realloc(b->p, b->n);
			CHECK(q != NULL, "realloc(%zu) before the threads failed", b->n);
			b->p = q;
			if (b->n == to)
				break;
		}
		b->seed = (uint64_t)1 << 62 | nxchg;
		pat_fill(b->p, b->n, b->seed);
	}
	for (t = 0; t < nthreads; t++)
		CHECK(pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t) == 0, "pthread_create failed");
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
	for (k = 0; k < nxchg; k++) {
		verify(&xchg[k], -1, "left in the exchange");
		free(xchg[k].p);
	}
	for (t = 0; t < nthreads; t++)
		cross += taken[t];
	CHECK(nthreads == 1 || cross > 0, "no block crossed threads");
	printf("%d threads x %ld ops; %llu blocks taken from the exchange\n", nthreads, ops,
	       (unsigned long long)cross);
	return 0;
}
