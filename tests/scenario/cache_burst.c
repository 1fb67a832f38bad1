/* Scenario 34 (issue 21): the thread cache fills and drains in batches: a
 * malloc its class cannot serve takes a batch of slab objects into it, a
 * free into a full class gives the older ones back together. Every block
 * keeps its bytes through that, none is handed out twice, and none is lost.
 *
 *   cache_burst fill     bursts of 1 to 200 blocks of each size from 16 to
 *                        8448 bytes (every class of the cache, past its
 *                        limits and past its largest class), and of 1000,
 *                        3000 and 5000 of 16, 64 and 256 (past the stacks
 *                        into the magazines, past the magazines' 2048
 *                        blocks and 64 KiB, and past the byte budget),
 *                        filled, then checked and freed newest first,
 *                        oldest first and every other one first; in
 *                        one thread, then in two at once; after
 *                        malloc_trim(0) the bytes in use (mallinfo2) are
 *                        where they started, and a burst through the
 *                        magazines again (their pages given back by the
 *                        trim) is intact
 *   cache_burst remote   a thread allocates bursts of 16-256 bytes and
 *                        hands them to another, which checks and frees them
 *                        (its cache fills with another arena's objects and
 *                        gives them back), while both also churn their own
 *   cache_burst fork     every class of a few sizes full, the process forks:
 *                        child and parent each run bursts, checked, and the
 *                        child exits 0
 *   cache_burst selfpage a heap block whose page begins, inside the block
 *                        before it, with the page's own address and a slab
 *                        header forged behind it, freed by a thread that has
 *                        no cache yet: it goes back to the heap, and none of
 *                        that thread's next mallocs of the forged size hands
 *                        it out (free's fast path keys on a secret, never 0)
 *   cache_burst budget KB  one thread frees 300 blocks of 272-4000 bytes
 *                        (every heap class, about 640 KB) and takes as many
 *                        back, three times: what the cache then holds
 *                        (mallinfo2's bytes in use that malloc_trim gives
 *                        back) is at
 *                        most KB KiB (OSMEM_TCACHE_KB, or the default's
 *                        320) and, unless KB is 0, at least half of it,
 *                        and the blocks keep their bytes
 *   cache_burst lone     the program, single-threaded and before any free,
 *                        takes 300 blocks of each slab size: its first 31
 *                        takes of 48 bytes reach the slabs, then a cache
 *                        opens and refills in batches, so at least half of
 *                        the takes from the 32nd to the 100th leave the
 *                        bytes in use (mallinfo2) as they were; checked and
 *                        freed, after malloc_trim(0) the bytes in use are
 *                        where they started. Then a thread takes as many
 *                        and opens no cache (none of its takes leaves the
 *                        bytes in use as they were), and the main thread
 *                        checks and frees its blocks
 * Each block holds a pattern from its address and a round number; a block
 * handed out twice, or changed while live or in a cache, fails the check. */
#include "scenario.h"

#include <pthread.h>
#include <sys/wait.h>

#define MAXN 200
/* Past a thread cache's byte budget with slab sizes (3000 of 256 bytes:
 * 750 KB), through its magazines and back, and past what they hold (3000
 * and 5000 of 16 bytes: TC_MAGS magazines of TC_MAG are 2048). */
#define LONG_BURST 5000

static uint64_t seed_of(const void *p, uint64_t round)
{
	return (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL + round;
}

/* n blocks of size z into v, patterned. */
static void make(char **v, int n, size_t z, uint64_t round)
{
	for (int i = 0; i < n; i++) {
		CHECK((v[i] = malloc(z)) != NULL, "malloc(%zu) failed", z);
		pat_fill(v[i], z, seed_of(v[i], round));
	}
}

static void check_free(char *p, size_t z, uint64_t round)
{
	CHECK(pat_ok(p, z, seed_of(p, round)), "block %p of %zu bytes changed (round %llu)", (void *)p, z,
	      (unsigned long long)round);
	free(p);
}

/* One burst: made, then checked and freed in the order given by how. */
static void burst(int n, size_t z, int how, uint64_t round)
{
	char *v[LONG_BURST];

	make(v, n, z, round);
	/* No two live blocks may overlap: each one's pattern is checked after all were made. */
	switch (how) {
	case 0:
		for (int i = n; i--;)
			check_free(v[i], z, round);
		break;
	case 1:
		for (int i = 0; i < n; i++)
			check_free(v[i], z, round);
		break;
	default:
		for (int i = 0; i < n; i += 2)
			check_free(v[i], z, round);
		for (int i = 1; i < n; i += 2)
			check_free(v[i], z, round);
	}
}

static void *fill_all(void *arg)
{
	uint64_t round = (uint64_t)(uintptr_t)arg * 1000000;

	for (size_t z = 16; z <= 8448; z += z < 256 ? 16 : z < 1024 ? 48 : 256)
		for (int n = 1; n <= MAXN; n += n < 20 ? 1 : 30)
			for (int how = 0; how < 3; how++)
				burst(n, z, how, round++);
	for (size_t z = 16; z <= 256; z *= 4)
		for (int n = 1000; n <= LONG_BURST; n += 2000)
			for (int how = 0; how < 3; how++)
				burst(n, z, how, round++);
	return NULL;
}

static void fill(void)
{
	size_t before, after;
	pthread_t t;

	malloc_trim(0);
	before = mallinfo2().uordblks;
	fill_all((void *)1);
	CHECK(pthread_create(&t, NULL, fill_all, (void *)2) == 0, "pthread_create");
	fill_all((void *)3);
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	malloc_trim(0);
	after = mallinfo2().uordblks;
	/* A thread's start leaves a few hundred bytes of glibc's own. */
	CHECK(after <= before + 4096, "blocks went missing: %zu bytes in use, %zu before", after, before);
	for (int how = 0; how < 3; how++)
		burst(LONG_BURST, 16, how, 7000000 + (uint64_t)how);
	printf("in use %zu bytes before, %zu after\n", before, after);
}

/* ---- remote: one thread's bursts freed by another ---- */

#define ROUNDS 2000
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *v[MAXN];
	size_t z;
	int n, full;
	uint64_t round;
} box = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *producer(void *arg)
{
	uint64_t rs = 5;

	(void)arg;
	for (uint64_t r = 0; r < ROUNDS; r++) {
		int n = (int)(rng_next(&rs) % MAXN) + 1;
		size_t z = (rng_next(&rs) % 16 + 1) * 16;

		burst(n / 4 + 1, z, (int)(r % 3), r + 5000000);   /* its own churn */
		pthread_mutex_lock(&box.mu);
		while (box.full)
			pthread_cond_wait(&box.cv, &box.mu);
		make(box.v, n, z, r);
		box.n = n;
		box.z = z;
		box.round = r;
		box.full = 1;
		pthread_cond_broadcast(&box.cv);
		pthread_mutex_unlock(&box.mu);
	}
	return NULL;
}

static void remote(void)
{
	pthread_t t;

	CHECK(pthread_create(&t, NULL, producer, NULL) == 0, "pthread_create");
	for (int r = 0; r < ROUNDS; r++) {
		pthread_mutex_lock(&box.mu);
		while (!box.full)
			pthread_cond_wait(&box.cv, &box.mu);
		for (int i = 0; i < box.n; i++)
			check_free(box.v[i], box.z, box.round);
		box.full = 0;
		pthread_cond_broadcast(&box.cv);
		pthread_mutex_unlock(&box.mu);
		burst(r % MAXN + 1, 48, r % 3, (uint64_t)r + 9000000);   /* and its own */
	}
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	printf("%d bursts passed between threads\n", ROUNDS);
}

/* ---- fork with the cache full ---- */

static void bursts(uint64_t round)
{
	for (size_t z = 16; z <= 1024; z *= 2)
		for (int n = 1; n <= MAXN; n += 7)
			burst(n, z, n % 3, round++);
}

static void fork_full(void)
{
	char *v[160];
	int status;
	pid_t pid;

	/* Each class full, and then some: 160 is past the deepest stack (a
	 * slab class's 128). */
	for (size_t z = 16; z <= 1024; z *= 2) {
		make(v, 160, z, 77);
		for (int i = 0; i < 160; i++)
			check_free(v[i], z, 77);
	}
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		bursts(100);
		_exit(0);
	}
	bursts(200);
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %#x)", status);
	printf("child and parent ran their bursts after a fork with the cache full\n");
}

/* ---- selfpage: a forged slab header at a page that names itself ---- */

static void *free_then_take(void *arg)
{
	uintptr_t b = (uintptr_t)arg;
	char *q[300];

	free(arg);   /* this thread's first free */
	for (int i = 0; i < 300; i++) {
		CHECK((q[i] = malloc(16)) != NULL, "malloc(16) failed");
		CHECK((uintptr_t)q[i] != b, "malloc(16) handed out %#lx, a freed 8000-byte block taken for a slab object",
		      (unsigned long)b);
	}
	for (int i = 0; i < 300; i++)
		free(q[i]);
	return NULL;
}

static void selfpage(void)
{
	char *a = NULL, *b = NULL, *spare[64];
	uint64_t *page = NULL;
	size_t off = 0;
	int n = 0;
	pthread_t t;

	/* a and b neighbours, b's page starting inside a at least a slab
	 * header's worth before b's own header. */
	for (; n < 64; n++) {
		spare[n] = malloc(16 + 48 * (size_t)n);
		a = malloc(8000);
		b = malloc(8000);
		CHECK(a && b && spare[n], "malloc failed");
		page = (uint64_t *)((uintptr_t)b & ~(uintptr_t)4095);
		off = (size_t)(b - (char *)page);
		if ((char *)page > a && (char *)page + 64 <= b - 32 && off >= 96 && off < 4000)
			break;
		free(a);
		free(b);
		a = b = NULL;
	}
	CHECK(b, "no block found whose page starts inside its neighbour");
	memset(page, 0, 64);
	page[0] = (uint64_t)(uintptr_t)page;   /* check word: the page's own address */
	((uint16_t *)page)[12] = 16;           /* size */
	((uint16_t *)page)[13] = 250;          /* cap */
	((uint16_t *)page)[14] = 1;            /* nfree */
	((uint16_t *)page)[15] = 0;            /* class */
	CHECK(pthread_create(&t, NULL, free_then_take, b) == 0, "pthread_create");
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	free(a);
	while (n >= 0)
		if (n < 64)
			free(spare[n--]);
		else
			n--;
	malloc_trim(0);   /* walks what it gives back: a damaged heap is reported */
	printf("a freed block behind a self-addressed page went back to the heap (offset %zu)\n", off);
}

/* ---- lone: a program that only allocates ---- */

#define LONE 300
#define LONE_SIZES 16   /* 16 to 256 bytes: every slab class */
#define LONE_WATCHED 100
#define LONE_OPEN 32    /* the take that opens a cache (TC_OPEN_AFTER) */
static char *lone_v[LONE_SIZES][LONE];

static size_t lone_size(int k)
{
	return 16 * (size_t)((k + 2) % LONE_SIZES + 1);   /* 48 bytes first */
}

/* LONE blocks of every slab size into lone_v, 48 bytes first: of the first
 * LONE_WATCHED of 48, how many left the bytes in use (mallinfo2) as they
 * were, taken from a cache, in served[0] (before the LONE_OPEN-th) and
 * served[1] (from it on). */
static void *take_only(void *arg)
{
	int *served = arg;

	for (int k = 0; k < LONE_SIZES; k++)
		for (int i = 0; i < LONE; i++) {
			size_t u = k == 0 && i < LONE_WATCHED ? mallinfo2().uordblks : 0;
			CHECK((lone_v[k][i] = malloc(lone_size(k))) != NULL, "malloc(%zu) failed", lone_size(k));
			if (k == 0 && i < LONE_WATCHED)
				served[i >= LONE_OPEN - 1] += mallinfo2().uordblks == u;
			pat_fill(lone_v[k][i], lone_size(k), seed_of(lone_v[k][i], 42));
		}
	return NULL;
}

static void check_free_lone(void)
{
	for (int k = 0; k < LONE_SIZES; k++)
		for (int i = 0; i < LONE; i++)
			check_free(lone_v[k][i], lone_size(k), 42);
}

static void lone(void)
{
	size_t before = mallinfo2().uordblks, after;
	int served[2] = { 0, 0 }, threaded[2] = { 0, 0 };
	pthread_t t;

	/* Single-threaded, nothing freed yet: the first takes go to the
	 * slabs, then a cache opens and refills. */
	take_only(served);
	CHECK(served[0] == 0, "a cache was open before the first free: %d of the first %d mallocs came from it",
	      served[0], LONE_OPEN - 1);
	CHECK(served[1] >= (LONE_WATCHED - LONE_OPEN) / 2,
	      "a program that never frees opened no cache: %d of %d mallocs from it", served[1],
	      LONE_WATCHED - LONE_OPEN + 1);
	check_free_lone();
	malloc_trim(0);
	after = mallinfo2().uordblks;
	CHECK(after <= before + 4096, "blocks went missing: %zu bytes in use, %zu before", after, before);
	/* A thread of a threaded process that only allocates opens none (a
	 * producer: others free its blocks); the main thread frees them. */
	CHECK(pthread_create(&t, NULL, take_only, threaded) == 0, "pthread_create");
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	CHECK(threaded[0] + threaded[1] == 0, "a thread that never frees opened a cache: %d of %d mallocs from it",
	      threaded[0] + threaded[1], LONE_WATCHED);
	check_free_lone();
	printf("%d of a single-threaded program's mallocs %d-%d of 48 bytes came from its cache, none of a thread's\n",
	       served[1], LONE_OPEN, LONE_WATCHED);
}

#define BUDGET_BLOCKS 300
#define BUDGET_SIZE(i) (272 + (size_t)(i) * 977 % 3729)   /* heap blocks: slabs count pages of their own */

static void budget(size_t kb)
{
	char *v[BUDGET_BLOCKS];
	size_t held;

	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < BUDGET_BLOCKS; i++) {
			CHECK((v[i] = malloc(BUDGET_SIZE(i))) != NULL, "malloc(%zu) failed", BUDGET_SIZE(i));
			pat_fill(v[i], BUDGET_SIZE(i), seed_of(v[i], (uint64_t)round));
		}
		for (int i = 0; i < BUDGET_BLOCKS; i++) {
			CHECK(pat_ok(v[i], BUDGET_SIZE(i), seed_of(v[i], (uint64_t)round)),
			      "round %d: block %d (%zu bytes) changed", round, i, BUDGET_SIZE(i));
			free(v[i]);
		}
	}
	held = mallinfo2().uordblks;
	malloc_trim(0);   /* flushes the thread's cache */
	held -= mallinfo2().uordblks;
	printf("the cache holds %zu KiB of a budget of %zu KiB\n", held / 1024, kb);
	CHECK(held <= kb << 10, "the cache holds %zu bytes: more than its budget of %zu KiB", held, kb);
	CHECK(held >= (kb << 10) / 2, "the cache holds %zu bytes: less than half its budget of %zu KiB", held, kb);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	require_osmem("cache_burst");
	if (strcmp(mode, "fill") == 0)
		fill();
	else if (strcmp(mode, "remote") == 0)
		remote();
	else if (strcmp(mode, "fork") == 0)
		fork_full();
	else if (strcmp(mode, "selfpage") == 0)
		selfpage();
	else if (strcmp(mode, "lone") == 0)
		lone();
	else if (strcmp(mode, "budget") == 0 && argc > 2)
		budget(strtoul(argv[2], NULL, 10));
	else
		FAIL("usage: cache_burst fill|remote|fork|selfpage|lone|budget KB");
	return 0;
}
