/* larson: server-style churn after Larson and Krishnan (benchmark, not a test).
 *
 *   larson [ROUNDS] [OPS]
 *
 * Two worker threads each own a table of 2000 blocks of 16-1024 bytes and
 * replace random ones (free, then malloc a new size) OPS times per round. At
 * the end of a round the workers exit and two new threads take over the
 * tables crosswise, so blocks are freed by threads that did not allocate
 * them, and threads come and go as in a server. Each table's operations
 * depend only on the round and the table, so the checksum is deterministic. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define THREADS 2
#define SLOTS   2000

struct table {
	unsigned char *p[SLOTS];
	unsigned short len[SLOTS];
	uint64_t sum;
	uint64_t seed;
	long ops;
};

static uint64_t rng(uint64_t *s)
{
	return rng_next(s);
}

static void *worker(void *arg)
{
	struct table *t = arg;
	for (long i = 0; i < t->ops; i++) {
		size_t k = rng(&t->seed) % SLOTS;
		size_t n = 16 + rng(&t->seed) % 1009;
		if (t->p[k]) {
			t->sum = t->sum * 31 + t->p[k][0] + t->p[k][t->len[k] - 1];
			free(t->p[k]);
		}
		unsigned char *q = malloc(n);
		if (!q) {
			fprintf(stderr, "malloc(%zu) failed\n", n);
			exit(1);
		}
		q[0] = (unsigned char)i;
		q[n - 1] = (unsigned char)(i >> 3);
		t->p[k] = q;
		t->len[k] = (unsigned short)n;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 40;
	long ops = argc > 2 ? atol(argv[2]) : 200000;
	static struct table tab[THREADS];
	uint64_t sum = 0;

	for (int i = 0; i < THREADS; i++)
		tab[i].seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
	for (long r = 0; r < rounds; r++) {
		pthread_t th[THREADS];
		for (int i = 0; i < THREADS; i++) {
			/* thread i of round r takes table (i + r) % THREADS */
			struct table *t = &tab[(i + r) % THREADS];
			t->ops = ops;
			if (pthread_create(&th[i], NULL, worker, t)) {
				fprintf(stderr, "pthread_create failed\n");
				return 1;
			}
		}
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
	}
	for (int i = 0; i < THREADS; i++) {
		for (int k = 0; k < SLOTS; k++)
			free(tab[i].p[k]);
		sum = sum * 31 + tab[i].sum;
	}
	printf("larson threads=%d rounds=%ld ops=%ld checksum=%016llx\n", THREADS, rounds, ops,
	       (unsigned long long)sum);
	return 0;
}
