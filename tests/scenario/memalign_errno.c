/* Scenario 29 (SPEC rule 27; glibc's tst-malloc-thread-fail): under a small
 * RLIMIT_AS (current size + 64 MiB), 4 threads call posix_memalign with
 * alignments of 8 B to 1 MiB and sizes of 32 B to 4 MiB until it fails. Each
 * ENOMEM return leaves errno at ENOMEM too, as glibc's does (its test takes
 * any other errno for a bug); each success, and each EINVAL for a bad
 * alignment, leaves errno as it was, and a failure leaves *memptr alone.
 * Blocks stay intact, and once every thread has freed its own the program
 * allocates again.
 *
 * Usage: memalign_errno late|bound
 *   late:  the threads start after the limit is set, so their arenas are
 *          made or refused under it (refused at 64 MiB of room: they all
 *          share arena_main);
 *   bound: each thread has allocated, and so holds an arena, before it. */
#include "scenario.h"

#define MIB ((size_t)1 << 20)
#define NTHREADS 4
#define ROUNDS 4
#define ENOMEM_PER_ROUND 8
#define SENTINEL ((void *)0x5eed5eedUL)

/* A thread's blocks, chained through themselves (no memory of their own). */
struct node { struct node *next; size_t n; uint64_t seed; };

/* Passed once the limit is set (bound: also once every thread has allocated). */
static pthread_barrier_t limit_set;
static int bound_first;

/* errno as the thread left it before a call: anything but 0 and ENOMEM. */
static int errno_mark(int t, long i)
{
	return 1000 + t * 100 + (int)(i % 97);
}

/* Bytes the pattern covers: enough to see a block overwritten or handed out
 * twice, without writing 64 MiB for every round. */
static size_t pat_len(size_t n)
{
	return (n < 4096 ? n : 4096) - sizeof(struct node);
}

static void expect_einval(int t, long i)
{
	static const size_t bad[] = { 0, 3, 4, 24, 48, 4097, (size_t)3 << 20, SIZE_MAX };
	size_t a = bad[i % (long)(sizeof bad / sizeof bad[0])];
	void *p = SENTINEL;
	int r, e;

	errno = errno_mark(t, i);
	r = posix_memalign_opaque(&p, a, 100);
	e = errno;
	CHECK(r == EINVAL, "thread %d: posix_memalign(align %zu, 100) returned %d, expected EINVAL", t, a, r);
	CHECK(e == errno_mark(t, i), "thread %d: posix_memalign(align %zu) returned EINVAL and changed errno "
	      "from %d to %d", t, a, errno_mark(t, i), e);
	CHECK(p == SENTINEL, "thread %d: posix_memalign(align %zu) failed but changed *memptr", t, a);
}

static struct node *free_some(struct node *head, int every, int t)
{
	struct node *keep = NULL, *x;
	int k = 0;

	while ((x = head)) {
		head = x->next;
		CHECK(pat_ok(x + 1, pat_len(x->n), x->seed), "thread %d: a block of %zu bytes was overwritten",
		      t, x->n);
		if (every && ++k % every) {
			x->next = keep;
			keep = x;
		} else {
			free(x);
		}
	}
	return keep;
}

static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	uint64_t rs = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
	struct node *head = NULL;
	long i = 0, nomem = 0, ok = 0;

	if (bound_first) {
		free(launder(malloc(opaque(64))));   /* binds the thread to an arena */
		pthread_barrier_wait(&limit_set);
	}
	pthread_barrier_wait(&limit_set);
	for (int round = 0; round < ROUNDS; round++) {
		long round_nomem = 0;

		while (round_nomem < ENOMEM_PER_ROUND) {
			uint64_t r = rng_next(&rs);
			size_t a = (size_t)1 << (3 + r % 18);                      /* 8 B .. 1 MiB */
			size_t n = ((size_t)1 << (5 + (r >> 8) % 18)) + (r >> 32) % 4096; /* 32 B .. 4 MiB */
			struct node *x;
			void *p = SENTINEL;
			int ret, e;

			if (++i % 16 == 0)
				expect_einval(t, i);
			errno = errno_mark(t, i);
			ret = posix_memalign_opaque(&p, a, n);
			e = errno;
			if (ret == ENOMEM) {
				CHECK(e == ENOMEM, "thread %d: posix_memalign(align %zu, size %zu) returned ENOMEM "
				      "but left errno at %d (glibc sets it to ENOMEM)", t, a, n, e);
				CHECK(p == SENTINEL, "thread %d: posix_memalign failed but changed *memptr", t);
				round_nomem++;
				continue;
			}
			CHECK(ret == 0, "thread %d: posix_memalign(align %zu, size %zu) returned %d", t, a, n, ret);
			CHECK(e == errno_mark(t, i), "thread %d: posix_memalign(align %zu, size %zu) succeeded and "
			      "changed errno from %d to %d", t, a, n, errno_mark(t, i), e);
			CHECK(p != SENTINEL && aligned_to(p, a), "thread %d: posix_memalign(align %zu) gave %p", t, a, p);
			x = p;
			x->next = head;
			x->n = n;
			x->seed = (uint64_t)i * NTHREADS + (uint64_t)t;
			pat_fill(x + 1, pat_len(n), x->seed);
			head = x;
			ok++;
		}
		nomem += round_nomem;
		/* Half of this thread's blocks go back (all of them after the last
		 * round) while the other threads may still be filling the space. */
		head = free_some(head, round + 1 < ROUNDS ? 2 : 0, t);
	}
	CHECK(ok > 0, "thread %d: no posix_memalign call succeeded", t);
	return (void *)(intptr_t)nomem;
}

int main(int argc, char **argv)
{
	pthread_t th[NTHREADS];
	pthread_attr_t attr;
	long nomem = 0;

	require_osmem("memalign_errno");
	CHECK(argc == 2 && (!strcmp(argv[1], "late") || !strcmp(argv[1], "bound")),
	      "usage: memalign_errno late|bound");
	bound_first = !strcmp(argv[1], "bound");
	CHECK(pthread_barrier_init(&limit_set, NULL, NTHREADS + 1) == 0, "pthread_barrier_init failed");
	CHECK(pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, 256 * 1024) == 0,
	      "pthread_attr_setstacksize failed");

	if (bound_first) {
		for (int t = 0; t < NTHREADS; t++)
			CHECK(pthread_create(&th[t], &attr, worker, (void *)(intptr_t)t) == 0, "pthread_create failed");
	}
	if (bound_first)
		pthread_barrier_wait(&limit_set);   /* every thread holds an arena */
	limit_as(64 * MIB);
	if (!bound_first) {
		for (int t = 0; t < NTHREADS; t++)
			CHECK(pthread_create(&th[t], &attr, worker, (void *)(intptr_t)t) == 0, "pthread_create failed");
	}
	pthread_barrier_wait(&limit_set);
	for (int t = 0; t < NTHREADS; t++) {
		void *r;

		pthread_join(th[t], &r);
		nomem += (long)(intptr_t)r;
	}

	/* Every thread freed its blocks: the memory serves again. */
	for (int i = 0; i < 16; i++) {
		void *p = SENTINEL;
		int r = posix_memalign(&p, 4096, opaque(MIB));

		CHECK(r == 0, "posix_memalign(4096, 1 MiB) returned %d after every block was freed", r);
		memset(p, 9, MIB);
		free(p);
	}
	printf("%s: %d threads, %ld ENOMEM returns, errno ENOMEM at each\n", argv[1], NTHREADS, nomem);
	return 0;
}
