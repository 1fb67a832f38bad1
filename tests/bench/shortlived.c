/* shortlived: many short-lived threads, each passing one block on
 * (benchmark, not a test).
 *
 *   shortlived [THREADS [AT_ONCE]] [--corrupt]
 *
 * THREADS threads in all (default 50,000), at most AT_ONCE (default 10)
 * alive at a time: the main thread starts one whenever fewer are running,
 * joining the oldest first. Each allocates one 128-byte block, fills it,
 * swaps it into a shared slot (an atomic exchange), checks and frees the
 * block it took out (none for the first), and exits; the main thread frees
 * the last one left in the slot. So nearly every block is freed by a thread
 * other than the one that allocated it, often after that thread has exited:
 * what the allocator does at a thread's start and exit, and with frees of an
 * exited thread's blocks, is the cost measured.
 *
 * The content check: block k is filled with 16 words derived from k, and the
 * words are compared before the free. A failure prints "shortlived: content
 * check failed: ..." on stderr and exits with status 3; --corrupt flips one
 * byte of one block after its fill, to show the check catches it. Every
 * block goes through the slot exactly once, so the sum of the numbers of the
 * blocks taken out is the same in every run whatever the scheduling; it is
 * checked and printed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 128
#define WORDS (BLOCK / 8)
#define MAX_AT_ONCE 1000
#define CORRUPT_EXIT 3

static _Atomic(uint64_t *) slot;
static atomic_ullong taken_sum;		/* sum of the numbers of the blocks checked */
static long corrupt_at = -1;		/* the number of the block --corrupt spoils */

static inline uint64_t word(uint64_t k, int w)
{
	return (k + 1) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)w << 56);
}

/* Checks the words of a block out of the slot and frees it. */
static void take(uint64_t *p)
{
	uint64_t k;

	if (!p)
		return;
	k = p[WORDS - 1];	/* its number; the other words are checked against it */
	for (int w = 0; w < WORDS - 1; w++)
		if (p[w] != word(k, w)) {
			fprintf(stderr, "shortlived: content check failed: block %llu, word %d (at %p)\n",
				(unsigned long long)k, w, (void *)p);
			exit(CORRUPT_EXIT);
		}
	atomic_fetch_add_explicit(&taken_sum, k, memory_order_relaxed);
	free(p);
}

static void *run(void *arg)
{
	uint64_t k = (uint64_t)(uintptr_t)arg;
	uint64_t *p = malloc(BLOCK);

	if (!p) {
		fprintf(stderr, "shortlived: malloc(%d) failed\n", BLOCK);
		exit(1);
	}
	for (int w = 0; w < WORDS - 1; w++)
		p[w] = word(k, w);
	p[WORDS - 1] = k;
	if ((long)k == corrupt_at)
		((unsigned char *)p)[40] ^= 1;
	take(atomic_exchange(&slot, p));
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: shortlived [THREADS [AT_ONCE]] [--corrupt]\n");
	exit(2);
}

static long number(const char *s, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	long threads = 50000, at_once = 10;
	int pos = 0;
	pthread_t tid[MAX_AT_ONCE];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--corrupt") == 0) {
			corrupt_at = 1;
		} else if (pos == 0) {
			threads = number(argv[i], 1L << 40);
			pos++;
		} else if (pos == 1) {
			at_once = number(argv[i], MAX_AT_ONCE);
			pos++;
		} else {
			usage();
		}
	}
	if (corrupt_at >= threads)
		corrupt_at = 0;
	for (long k = 0; k < threads; k++) {
		pthread_t *t = &tid[k % at_once];

		if (k >= at_once && pthread_join(*t, NULL)) {
			fprintf(stderr, "shortlived: pthread_join failed\n");
			return 1;
		}
		if (pthread_create(t, NULL, run, (void *)(uintptr_t)k)) {
			fprintf(stderr, "shortlived: pthread_create failed\n");
			return 1;
		}
	}
	for (long k = threads > at_once ? threads - at_once : 0; k < threads; k++)
		pthread_join(tid[k % at_once], NULL);
	take(atomic_exchange(&slot, NULL));

	unsigned long long want = (unsigned long long)threads * (unsigned long long)(threads - 1) / 2;
	unsigned long long sum = atomic_load(&taken_sum);
	if (sum != want) {
		fprintf(stderr, "shortlived: blocks lost or taken twice: sum %llu, expected %llu\n", sum, want);
		return CORRUPT_EXIT;
	}
	printf("shortlived threads=%ld at_once=%ld check=ok sum=%llu\n", threads, at_once, sum);
	return 0;
}
