/* Once the process has threads, an arena gives back a free top larger than
 * the trim threshold (twice the mmap threshold by default) when a free
 * makes it so; but an arena whose heap grew again since it last did waits
 * until the top has stayed that large for a second (the first free into it
 * after that gives it back), and malloc_trim does not wait. In a thread of
 * its own arena:
 *   1. 6 MB of 100 KiB blocks (heap blocks: below the mmap threshold, above
 *      what a thread keeps for its next lock), freed: the heap shrinks at
 *      once (its first trim);
 *   2. allocated again (the heap grows again) and freed: it stays;
 *   3. a second later, a block allocated and freed: the heap shrinks;
 *   4. allocated again and freed, then malloc_trim(0): the heap shrinks.
 * mallinfo2's arena is the heap's size. */
#include "scenario.h"

#include <malloc.h>
#include <pthread.h>
#include <time.h>

#define N 60
#define SIZE (100 * 1024)
#define MIB (1024 * 1024)

static char *blk[N];

static size_t heap_size(void)
{
	return mallinfo2().arena;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill(void)
{
	for (unsigned i = 0; i < N; i++) {
		blk[i] = malloc(opaque(SIZE));
		CHECK(blk[i] != NULL, "malloc(%d) failed", SIZE);
		memset(blk[i], (int)i, SIZE);   /* its pages in use */
	}
}

/* Freed last first: each free merges into the free top. */
static void empty(void)
{
	for (unsigned i = N; i--;)
		free(blk[i]);
}

static void *worker(void *arg)
{
	size_t full, after;
	double t0;
	char *p;

	(void)arg;
	fill();
	full = heap_size();
	empty();
	after = heap_size();
	CHECK(after + 5 * MIB <= full, "step 1: the heap went from %zu to %zu bytes, not given back at once", full,
	      after);

	fill();
	full = heap_size();
	t0 = now();
	empty();
	after = heap_size();
	if (now() - t0 < 0.5)   /* a machine this slow would have waited out the delay */
		CHECK(after + 5 * MIB > full, "step 2: the heap went from %zu to %zu bytes at once, after it grew again",
		      full, after);

	usleep(1200 * 1000);
	p = malloc(opaque(SIZE));
	CHECK(p != NULL, "malloc(%d) failed", SIZE);
	free(launder(p));
	after = heap_size();
	CHECK(after + 5 * MIB <= full, "step 3: the heap went from %zu to %zu bytes only, a second later", full,
	      after);

	fill();
	full = heap_size();
	empty();
	CHECK(malloc_trim(0) == 1, "step 4: malloc_trim(0) released nothing");
	after = heap_size();
	CHECK(after + 5 * MIB <= full, "step 4: the heap went from %zu to %zu bytes only after malloc_trim", full,
	      after);
	return NULL;
}

int main(void)
{
	pthread_t t;

	require_osmem("trim_delay");
	CHECK(pthread_create(&t, NULL, worker, NULL) == 0, "pthread_create failed");
	CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
	return 0;
}
