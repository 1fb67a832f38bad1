/* prodcons: one thread allocates, another frees (benchmark, not a test).
 *
 *   prodcons [MESSAGES]
 *
 * The producer mallocs messages of 16-512 bytes, fills them, and passes them
 * through a lock-free single-producer single-consumer ring of 1024 pointers;
 * the consumer reads each back into the checksum and frees it. Every block is
 * freed by a thread other than the one that allocated it: the case a
 * thread-caching allocator must handle by returning memory to its owner. The
 * ring keeps FIFO order, so the checksum does not depend on scheduling. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define RING 1024

static void *ring[RING];
static _Atomic size_t head, tail;   /* head: next to write; tail: next to read */
static long messages;

static uint64_t rng(uint64_t *s)
{
	return rng_next(s);
}

static void *producer(void *arg)
{
	uint64_t seed = 0x9E3779B97F4A7C15ULL;
	(void)arg;
	for (long i = 0; i < messages; i++) {
		size_t n = 16 + rng(&seed) % 497;
		unsigned char *p = malloc(n);
		if (!p) {
			fprintf(stderr, "malloc(%zu) failed\n", n);
			exit(1);
		}
		memcpy(p, &n, sizeof n);
		memset(p + sizeof n, (int)i, n - sizeof n);
		size_t h = atomic_load_explicit(&head, memory_order_relaxed);
		while (h - atomic_load_explicit(&tail, memory_order_acquire) == RING)
			sched_yield();
		ring[h % RING] = p;
		atomic_store_explicit(&head, h + 1, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	uint64_t *sum = arg;
	for (long i = 0; i < messages; i++) {
		size_t t = atomic_load_explicit(&tail, memory_order_relaxed);
		while (atomic_load_explicit(&head, memory_order_acquire) == t)
			sched_yield();
		unsigned char *p = ring[t % RING];
		atomic_store_explicit(&tail, t + 1, memory_order_release);
		size_t n;
		memcpy(&n, p, sizeof n);
		*sum = *sum * 31 + n + p[n - 1] + p[n / 2];
		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t pt, ct;
	uint64_t sum = 0;

	messages = argc > 1 ? atol(argv[1]) : 3000000;
	if (pthread_create(&ct, NULL, consumer, &sum) || pthread_create(&pt, NULL, producer, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	pthread_join(pt, NULL);
	pthread_join(ct, NULL);
	printf("prodcons messages=%ld checksum=%016llx\n", messages, (unsigned long long)sum);
	return 0;
}
