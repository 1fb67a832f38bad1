/* Decay: free memory goes back to the system once it has stayed unused for
 * OSMEM_DECAY_MS, and not before; in a threaded process that goes idle too.
 *
 *   decay KIND PIN MODE
 * KIND: small (48-byte blocks: slab objects), medium (1000 bytes: heap
 * blocks), large (100 KiB: heap blocks below the mmap threshold). About 64
 * MiB of them are built and freed, all but one in PIN (0: none kept). MODE:
 *   calls   single-threaded; after the frees, a request's worth of calls
 *           (64 blocks of 16-4000 bytes, allocated and freed) every ms
 *   hits    the same with 16 malloc(64)/free pairs a ms instead, every one
 *           served by the thread cache
 *   heap    the same with 16 pairs a ms of sizes no thread cache keeps
 *           (4-12 KiB): every call reaches the heap, none the cache
 *   idle    4 threads build and free their share, then nobody calls malloc
 *   fork    idle, and then the process forks: in the child, 4 threads
 *           build and free again and go idle; the parent does the same
 *   tasks   single-threaded build, free and calls: still one thread; then
 *           one thread started and joined: two, one of them the purger
 * It prints one line: the resident KiB at the peak, just after the frees,
 * and after 1, 2 and 4 windows, then checks: just after the frees at least
 * 60% of the peak is still resident (nothing goes back before the window),
 * and after 2 windows at most 15% (or with PIN, what the kept blocks hold
 * plus 15%). The window is OSMEM_DECAY_MS, which the test sets; with 0
 * (at once) the check is made after 300 ms, and nothing may go back
 * before it; with -1 (never) at least 60% must still be resident after
 * 1.2 s. */
#include "scenario.h"

#include <dirent.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#define TOTAL (64UL << 20)
#define THREADS 4

static size_t size, pin, nblocks;
static char **blk;
static long window_ms, decay;   /* OSMEM_DECAY_MS */

static size_t resident_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	CHECK(f && fscanf(f, "%ld %ld", &pages, &rss) == 2, "cannot read /proc/self/statm");
	fclose(f);
	return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Blocks [lo, hi): built, written whole. */
static void build(size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++) {
		CHECK((blk[i] = malloc(size)) != NULL, "malloc(%zu) failed", size);
		memset(blk[i], (int)i, size);
	}
}

/* ... freed, all but one in pin (the first of each run of pin). */
static void drop(size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		if (!pin || i % pin) {
			free(blk[i]);
			blk[i] = NULL;
		}
}

static pthread_barrier_t built, finish;

/* Builds and frees its share, then waits, idle, until the round ends: a
 * server's thread back in epoll_wait (an exiting thread's arena gives its
 * top back at once). */
static void *worker(void *arg)
{
	size_t t = (size_t)(uintptr_t)arg, lo = nblocks * t / THREADS, hi = nblocks * (t + 1) / THREADS;

	build(lo, hi);
	drop(lo, hi);
	pthread_barrier_wait(&built);
	pthread_barrier_wait(&finish);
	return NULL;
}

/* What goes on after the frees: NONE; CALLS, a request's worth of calls
 * (blocks of 16-4000 bytes, some from the heap); HITS, 16 pairs of
 * malloc(64) and free that the thread cache serves, none reaching the heap;
 * HEAP, 16 pairs that all reach it. */
enum activity { NONE, CALLS, HITS, HEAP };

static void cache_hits(void)
{
	for (int i = 0; i < 16; i++) {
		char *volatile p = malloc(64);

		CHECK(p != NULL, "malloc failed");
		p[0] = 1;
		free(p);
	}
}

static void heap_calls(uint64_t *rs)
{
	for (int i = 0; i < 16; i++) {
		char *volatile p = malloc(4200 + rng_next(rs) % 8000);

		CHECK(p != NULL, "malloc failed");
		p[0] = 1;
		free(p);
	}
}

/* A request's worth of calls: what a program that goes on working makes. */
static void some_calls(uint64_t *rs)
{
	void *v[64];

	for (int i = 0; i < 64; i++) {
		v[i] = malloc(rng_next(rs) % 4000 + 16);
		CHECK(v[i] != NULL, "malloc failed");
		memset(v[i], 1, 16);
	}
	for (int i = 0; i < 64; i++)
		free(v[i]);
}

/* Waits ms milliseconds, with the activity every millisecond. */
static void wait_ms(long ms, enum activity act, uint64_t *rs)
{
	double end = now_s() + (double)ms / 1000;

	while (now_s() < end) {
		if (act == CALLS)
			some_calls(rs);
		else if (act == HITS)
			cache_hits();
		else if (act == HEAP)
			heap_calls(rs);
		usleep(1000);
	}
}

/* One round: build, free, then the samples. The peak is taken with every
 * block built (single-threaded: before the frees; threads: the most seen). */
static void round_of(const char *who, bool threads, enum activity act)
{
	uint64_t rs = 12345;
	double t0, dropping = 0;
	/* What stays in use: the array of pointers, and the pages of each kept
	 * block, one more each for the header of the block after it; a kept
	 * slab object holds its slab's page alone (the run of free pages
	 * before that slab becomes its front, which holds the header). */
	size_t peak, after, w1, w2, w4, page = (size_t)sysconf(_SC_PAGESIZE);
	bool slab = size <= 256;
	size_t kept = ((pin ? nblocks / pin * (size + (slab ? 1 : 2) * page) : 0) + nblocks * sizeof *blk) / 1024;

	pthread_t th[THREADS];

	if (threads) {
		struct rusage ru;

		pthread_barrier_init(&built, NULL, THREADS + 1);
		pthread_barrier_init(&finish, NULL, THREADS + 1);
		for (size_t t = 0; t < THREADS; t++)
			CHECK(pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t) == 0, "pthread_create");
		pthread_barrier_wait(&built);
		getrusage(RUSAGE_SELF, &ru);
		peak = (size_t)ru.ru_maxrss;
	} else {
		build(0, nblocks);
		peak = resident_kib();
		t0 = now_s();
		drop(0, nblocks);
		dropping = now_s() - t0;
	}
	after = resident_kib();
	wait_ms(window_ms, act, &rs);
	w1 = resident_kib();
	wait_ms(window_ms, act, &rs);
	w2 = resident_kib();
	wait_ms(2 * window_ms, act, &rs);
	w4 = resident_kib();
	if (threads) {
		pthread_barrier_wait(&finish);
		for (size_t t = 0; t < THREADS; t++)
			pthread_join(th[t], NULL);
	}
	printf("%s: resident KiB: peak %zu, after the frees %zu, +1 window %zu, +2 windows %zu, +4 windows %zu\n",
	       who, peak, after, w1, w2, w4);
	fflush(stdout);
	/* Once there are threads, a free top larger than the trim threshold
	 * goes back at free, as glibc's does: single-threaded, nothing. */
	if (decay < 0) {   /* never: what the heap holds stays */
		CHECK(w4 >= peak * 6 / 10, "%s: %zu of %zu KiB resident: given back with decay off", who, w4, peak);
		return;
	}
	/* A pass may purge what the one before it saw free: only once the
	 * frees themselves took less than half a window can none have. */
	CHECK(threads || !decay || dropping * 1000 >= (double)decay / 2 || after >= peak * 6 / 10,
	      "%s: %zu of %zu KiB resident just after the frees: given back before the window", who, after, peak);
	CHECK((decay ? w2 : w1) <= kept + peak * 15 / 100,
	      "%s: %zu of %zu KiB still resident %s after the frees (%zu kept)", who, decay ? w2 : w1, peak,
	      decay ? "two windows" : "at once", kept);
	/* Kept slab objects, every 12th page: a page each, not two (the runs
	 * between them kept their last page, 30% more than the kept ones). */
	CHECK(!pin || !slab || (decay ? w2 : w1) <= kept + peak * 5 / 100,
	      "%s: %zu of %zu KiB still resident %s after the frees, above the %zu kept and 5%%: "
	      "more than a page for each kept slab object", who, decay ? w2 : w1, peak, decay ? "two windows" : "at once", kept);
}

/* The threads of this process, and how many of them are osmem's purger. */
static int tasks(int *purgers)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL, "opendir /proc/self/task");
	*purgers = 0;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		if ((f = fopen(path, "r"))) {
			*purgers += fgets(comm, sizeof comm, f) && !strcmp(comm, "osmem-purge\n");
			fclose(f);
		}
	}
	closedir(d);
	return n;
}

static void *touch_thread(void *arg)
{
	free(malloc(100000));
	return arg;
}

/* Single-threaded, the process stays one thread whatever it frees; from its
 * first thread on, osmem's purger is one more. */
static void count_tasks(void)
{
	uint64_t rs = 7;
	pthread_t th;
	int n, purgers;

	build(0, nblocks);
	drop(0, nblocks);
	wait_ms(2 * window_ms, CALLS, &rs);
	n = tasks(&purgers);
	printf("single-threaded: %d threads, %d purger\n", n, purgers);
	CHECK(n == 1 && purgers == 0, "a single-threaded process has %d threads, %d purgers", n, purgers);
	CHECK(pthread_create(&th, NULL, touch_thread, NULL) == 0, "pthread_create");
	pthread_join(th, NULL);
	n = tasks(&purgers);
	printf("after a thread: %d threads, %d purger\n", n, purgers);
	CHECK(n == 2 && purgers == 1, "after one thread exited: %d threads, %d purgers", n, purgers);
}

int main(int argc, char **argv)
{
	const char *w = getenv("OSMEM_DECAY_MS");

	CHECK(argc == 4, "usage: decay small|medium|large PIN calls|hits|heap|idle|fork|tasks");
	require_osmem("decay");
	size = !strcmp(argv[1], "small") ? 48 : !strcmp(argv[1], "medium") ? 1000 : 100 * 1024;
	pin = strtoul(argv[2], NULL, 10);
	decay = w ? atol(w) : 1000;
	window_ms = decay > 0 ? decay : 300;   /* off or at once: samples 300 ms apart */
	nblocks = TOTAL / size;
	CHECK((blk = calloc(nblocks, sizeof *blk)) != NULL, "calloc");
	if (!strcmp(argv[3], "tasks")) {
		count_tasks();
	} else if (!strcmp(argv[3], "calls")) {
		round_of("single thread", false, CALLS);
	} else if (!strcmp(argv[3], "hits")) {
		round_of("single thread, cache hits", false, HITS);
	} else if (!strcmp(argv[3], "heap")) {
		round_of("single thread, heap calls", false, HEAP);
	} else if (!strcmp(argv[3], "idle")) {
		round_of("idle threads", true, NONE);
	} else {
		pid_t pid;
		int st;

		round_of("parent, before fork", true, NONE);
		CHECK((pid = fork()) >= 0, "fork");
		round_of(pid ? "parent" : "child", true, NONE);
		if (!pid)
			_exit(0);
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "the child failed (status %d)", st);
	}
	return 0;
}
