/* Scenarios 21-26 (SPEC rules 31 and 32): arenas, threads and fork.
 *
 *   arenas spread T        T threads allocate at once: more than one arena
 *                          serves them (malloc_stats names each), and each
 *                          thread's blocks stay intact while the others churn
 *                          no more than 2 per CPU unless a variable says
 *                          otherwise
 *   arenas expect-one T    the same, but exactly one arena may exist
 *                          (run with MALLOC_ARENA_MAX=1 or OSMEM_ARENAS=1)
 *   arenas reuse N         N short-lived threads, a few at a time, each
 *                          allocating and freeing a few MiB: arenas are
 *                          reused, so their count stays small and the
 *                          resident memory after N threads is no more than
 *                          after the first hundred (plus a small margin)
 *   arenas forkbusy F      every arena busy (threads churning) while the main
 *                          thread forks F times; each child frees, resizes
 *                          and allocates blocks of every arena, then exits 0
 *   arenas sigfork N       single-threaded, N malloc/free rounds (one in
 *                          seven with a fork) while other processes send
 *                          SIGUSR1, whose handler forks (the child _exits):
 *                          no hang (glibc's tst-mallocfork2)
 *   arenas handoff N       a producer thread allocates 24 blocks a round
 *                          (16-4000 bytes), a consumer thread checks and
 *                          frees them, N rounds, neither ever exiting: what
 *                          the consumer frees goes back to the producer's
 *                          arena while both run (the heap stays small), and
 *                          no block is damaged on the way; then a thread that
 *                          only frees 20 of this thread's blocks and exits:
 *                          they are back in use by nobody (mallinfo2)
 *   arenas first           the process's first thread binds to arena 0 even
 *                          when another thread bound first; and in a fork
 *                          child made by a thread that had not bound, that
 *                          thread is the child's first and binds to arena 0
 *   arenas caches T        T threads each free and take back 300 blocks of
 *                          16-4000 bytes, 20 times, then free them and wait:
 *                          what their caches and deferred frees hold
 *                          together (mallinfo2's bytes in use, none of them
 *                          the program's) stays within the shared budget
 *   arenas crowd           more than 16 threads per CPU (on 2 CPUs at most:
 *                          it runs itself again on the first two it may
 *                          use; with OSMEM_DECAY_MS=60000):
 *                          the arenas past one per CPU lose their threads
 *                          at their next entry, each gives the pages of
 *                          what is freed into it back at once (long before
 *                          the window), and once the crowd has gone a new
 *                          thread takes such an arena again
 *   arenas stranded        blocks another thread freed while their arena
 *                          still had its thread wait in that thread's
 *                          outbox and reach the arena's remote list after
 *                          its last thread left: osmem's purger takes them
 *                          back (run with OSMEM_DECAY_MS=200: it looks at
 *                          least every 100 ms), so the arena holds nothing
 *                          in use within 2 s
 *   arenas stdiofork F     threads that fopen/fclose/fflush(NULL) and
 *                          allocate while the main thread forks F times: no
 *                          deadlock between stdio's list lock and the
 *                          arenas' (glibc's tst-malloc-fork-deadlock)
 *
 * A hang is caught by alarm(): SIGALRM kills the process (or the child). */
#include "scenario.h"

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* malloc_stats' "osmem arena K:" lines, counted from its stderr output. */
static int arena_lines(char *buf, size_t len)
{
	char path[] = "/tmp/osmem-arenas-XXXXXX";
	int fd = mkstemp(path), saved = dup(2), n = 0;
	ssize_t got;

	CHECK(fd >= 0 && saved >= 0, "mkstemp/dup failed: %s", strerror(errno));
	unlink(path);
	fflush(stderr);
	CHECK(dup2(fd, 2) == 2, "dup2 failed");
	malloc_stats();
	dup2(saved, 2);
	close(saved);
	got = pread(fd, buf, len - 1, 0);
	close(fd);
	CHECK(got > 0, "malloc_stats wrote nothing");
	buf[got] = 0;
	for (char *p = buf; (p = strstr(p, "osmem arena ")); p++)
		n++;
	return n;
}

static int cpus(void)
{
	cpu_set_t set;

	CHECK(sched_getaffinity(0, sizeof set, &set) == 0, "sched_getaffinity: %s", strerror(errno));
	return CPU_COUNT(&set);
}

/* ---- spread, expect-one: threads allocating at once ---- */

#define LIVE 256

static pthread_barrier_t all_allocated, all_counted;

static void *spread_thread(void *arg)
{
	uint64_t rs = 77 + (uint64_t)(intptr_t)arg, seed[LIVE];
	char *v[LIVE];
	size_t n[LIVE];

	for (int i = 0; i < LIVE; i++) {
		n[i] = rng_next(&rs) % 3000 + 1;
		seed[i] = rng_next(&rs);
		CHECK((v[i] = malloc(n[i])) != NULL, "malloc(%zu) failed", n[i]);
		pat_fill(v[i], n[i], seed[i]);
	}
	pthread_barrier_wait(&all_allocated);
	pthread_barrier_wait(&all_counted);
	/* Churn, then check the survivors. */
	for (int k = 0; k < 20000; k++) {
		int i = (int)(rng_next(&rs) % LIVE);
		CHECK(pat_ok(v[i], n[i], seed[i]), "thread %d: block %p changed", (int)(intptr_t)arg, (void *)v[i]);
		free(v[i]);
		n[i] = rng_next(&rs) % 3000 + 1;
		seed[i] = rng_next(&rs);
		CHECK((v[i] = malloc(n[i])) != NULL, "malloc(%zu) failed", n[i]);
		pat_fill(v[i], n[i], seed[i]);
	}
	for (int i = 0; i < LIVE; i++) {
		CHECK(pat_ok(v[i], n[i], seed[i]), "thread %d: block %p changed", (int)(intptr_t)arg, (void *)v[i]);
		free(v[i]);
	}
	return NULL;
}

static void spread(int threads, bool one)
{
	pthread_t th[64];
	char buf[16384];
	int arenas;

	CHECK(threads >= 2 && threads <= 64, "2 to 64 threads");
	pthread_barrier_init(&all_allocated, NULL, (unsigned)threads + 1);
	pthread_barrier_init(&all_counted, NULL, (unsigned)threads + 1);
	for (int t = 0; t < threads; t++)
		CHECK(pthread_create(&th[t], NULL, spread_thread, (void *)(intptr_t)t) == 0, "pthread_create");
	pthread_barrier_wait(&all_allocated);
	arenas = arena_lines(buf, sizeof buf);
	pthread_barrier_wait(&all_counted);
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	if (one)
		CHECK(arenas == 1, "%d arenas with the limit at one:\n%s", arenas, buf);
	else
		CHECK(arenas > 1, "%d threads allocating at once, yet one arena:\n%s", threads, buf);
	if (!one && !getenv("MALLOC_ARENA_MAX") && !getenv("OSMEM_ARENAS") && !getenv("MALLOC_ARENA_TEST"))
		CHECK(arenas <= 2 * cpus(), "%d arenas for %d threads on %d CPUs: more than 2 per CPU", arenas,
		      threads, cpus());
	printf("%d threads, %d arenas\n", threads, arenas);
}

/* ---- reuse: short-lived threads ---- */

/* /proc/self/statm's field: 0 the address space, 1 what is resident, in KiB. */
static size_t statm_kib(int field)
{
	long v[2] = { 0, 0 };
	FILE *f = fopen("/proc/self/statm", "r");

	CHECK(f && fscanf(f, "%ld %ld", &v[0], &v[1]) == 2, "cannot read /proc/self/statm");
	fclose(f);
	return (size_t)v[field] * (size_t)sysconf(_SC_PAGESIZE) / 1024;
}

static size_t resident_kib(void)
{
	return statm_kib(1);
}

static void *short_thread(void *arg)
{
	uint64_t rs = 991 + (uint64_t)(intptr_t)arg;
	char *v[600];

	for (int i = 0; i < 600; i++) {
		size_t n = i % 100 == 0 ? 200000 : rng_next(&rs) % 8000 + 1;
		CHECK((v[i] = malloc(n)) != NULL, "malloc(%zu) failed", n);
		memset(v[i], i, n);
	}
	for (int i = 0; i < 600; i++)
		free(v[i]);
	return NULL;
}

static void reuse(int n)
{
	size_t at100 = 0, now, vm100 = 0, vm;
	char buf[16384];
	int arenas, arenas100 = 0;

	for (int i = 0; i < n; i += 4) {
		pthread_t th[4];
		for (int t = 0; t < 4; t++)
			CHECK(pthread_create(&th[t], NULL, short_thread, (void *)(intptr_t)(i + t)) == 0, "pthread_create");
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		if (i + 4 == 100) {
			/* What the arenas hold free goes back first: with fewer
			 * arenas than threads, an arena another thread still uses
			 * keeps it until decay, whenever that falls. */
			malloc_trim(0);
			at100 = resident_kib();
			vm100 = statm_kib(0);
			arenas100 = arena_lines(buf, sizeof buf);
		}
	}
	malloc_trim(0);
	now = resident_kib();
	vm = statm_kib(0);
	arenas = arena_lines(buf, sizeof buf);
	printf("%d threads: %zu KiB resident after 100, %zu KiB after all; %d arenas\n", n, at100, now, arenas);
	CHECK(arenas <= 6, "%d arenas for at most 4 threads at a time: not reused\n%s", arenas, buf);
	CHECK(now <= at100 + at100 / 10 + 512, "resident memory grew from %zu to %zu KiB", at100, now);
	/* Each thread's cache is mapped (12 KiB, 10 MiB for the 900 threads
	 * after the first 100 if none were reused); each arena made since
	 * reserves a region of 64 MiB. */
	CHECK(vm <= vm100 + (size_t)(arenas - arenas100) * 65536 + 2048,
	      "address space grew from %zu to %zu KiB (%d arenas, %d after 100 threads)", vm100, vm, arenas, arenas100);
}

/* ---- forkbusy: fork while every arena is busy ---- */

#define KEEP 16
static char *kept[64][KEEP];    /* each thread's blocks the children free */
static volatile int stop;
static int nbusy;

static void *busy_thread(void *arg)
{
	int t = (int)(intptr_t)arg;
	uint64_t rs = 4242 + (uint64_t)t;
	char *v[64] = { 0 };

	for (int k = 0; k < KEEP; k++) {
		kept[t][k] = malloc((size_t)(k + 1) * 100);
		CHECK(kept[t][k] != NULL, "malloc failed");
		memset(kept[t][k], t + 1, (size_t)(k + 1) * 100);
	}
	pthread_barrier_wait(&all_allocated);
	while (!stop) {
		unsigned i = (unsigned)(rng_next(&rs) % 64);
		free(v[i]);
		v[i] = malloc(rng_next(&rs) % 5000 + 1);
		CHECK(v[i] != NULL, "malloc failed");
		v[i][0] = 1;
	}
	for (int i = 0; i < 64; i++)
		free(v[i]);
	return NULL;
}

static void forkbusy(int forks)
{
	pthread_t th[8];
	char buf[16384];

	nbusy = 6;
	pthread_barrier_init(&all_allocated, NULL, (unsigned)nbusy + 1);
	for (int t = 0; t < nbusy; t++)
		CHECK(pthread_create(&th[t], NULL, busy_thread, (void *)(intptr_t)t) == 0, "pthread_create");
	pthread_barrier_wait(&all_allocated);
	CHECK(arena_lines(buf, sizeof buf) > 1, "the busy threads share one arena:\n%s", buf);
	for (int i = 0; i < forks; i++) {
		int st;
		pid_t pid = fork();

		CHECK(pid >= 0, "fork failed: %s", strerror(errno));
		if (pid == 0) {
			/* Every arena's blocks: checked, resized, freed; then new ones. */
			alarm(10);
			for (int t = 0; t < nbusy; t++)
				for (int k = 0; k < KEEP; k++) {
					char *p = kept[t][k];
					size_t n = (size_t)(k + 1) * 100;
					if (p[0] != t + 1 || p[n - 1] != t + 1)
						_exit(3);
					p = realloc(p, n * 3);
					if (!p || p[n - 1] != t + 1)
						_exit(4);
					free(p);
				}
			for (int k = 0; k < 100; k++)
				free(malloc((size_t)k * 97 + 1));
			_exit(0);
		}
		CHECK(waitpid(pid, &st, 0) == pid, "waitpid failed");
		CHECK(!(WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM), "child %d hung for 10 s: a lock held after fork", i);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed: status %d", i, st);
	}
	stop = 1;
	for (int t = 0; t < nbusy; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < nbusy; t++)
		for (int k = 0; k < KEEP; k++)
			free(kept[t][k]);
	printf("%d forks while %d threads allocated\n", forks, nbusy);
}

/* ---- sigfork: fork in a signal handler, single-threaded ---- */

static volatile sig_atomic_t handler_error;

static void fork_in_handler(int sig)
{
	int saved = errno, st;
	pid_t pid = fork();

	(void)sig;
	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
		handler_error = 1;
	errno = saved;
}

static void sigfork(int rounds)
{
	pid_t senders[3];
	pid_t parent = getpid();
	void *v[1009] = { 0 };
	uint64_t rs = 1;

	signal(SIGUSR1, fork_in_handler);
	for (int s = 0; s < 3; s++) {
		senders[s] = fork();
		CHECK(senders[s] >= 0, "fork failed");
		if (senders[s] == 0) {
			for (;;) {
				if (kill(parent, SIGUSR1) != 0)
					_exit(0);
				usleep(2000);
			}
		}
	}
	alarm(60);   /* a hang kills the process: the bats test sees SIGALRM */
	for (int i = 0; i < rounds; i++) {
		unsigned k = (unsigned)(rng_next(&rs) % 1009);
		if (rng_next(&rs) % 7 == 0) {   /* a fork of its own, which a signal may interrupt */
			int st;
			pid_t pid = fork();
			if (pid == 0)
				_exit(0);
			CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && st == 0, "fork in the loop failed");
		}
		free(v[k]);
		v[k] = malloc(rng_next(&rs) % 70000);
		CHECK(v[k] != NULL || handler_error, "malloc failed");
		CHECK(!handler_error, "fork in the signal handler failed");
	}
	alarm(0);
	for (int s = 0; s < 3; s++) {
		kill(senders[s], SIGKILL);
		waitpid(senders[s], NULL, 0);
	}
	for (int k = 0; k < 1009; k++)
		free(v[k]);
	printf("%d rounds with forks from a signal handler\n", rounds);
}

/* ---- stdiofork: stdio's list lock against the arenas' ---- */

static void *stdio_thread(void *arg)
{
	char path[64];

	snprintf(path, sizeof path, "/tmp/osmem-stdiofork-%d-%d", (int)getpid(), (int)(intptr_t)arg);
	while (!stop) {
		FILE *f = fopen(path, "w");
		CHECK(f != NULL, "fopen failed");
		fputs("x", f);
		fflush(NULL);
		free(malloc(1000));
		fclose(f);
	}
	unlink(path);
	return NULL;
}

static void stdiofork(int forks)
{
	pthread_t th[4];

	for (int t = 0; t < 4; t++)
		CHECK(pthread_create(&th[t], NULL, stdio_thread, (void *)(intptr_t)t) == 0, "pthread_create");
	alarm(60);
	for (int i = 0; i < forks; i++) {
		int st;
		pid_t pid = fork();

		CHECK(pid >= 0, "fork failed");
		if (pid == 0) {
			alarm(10);
			free(malloc(100));
			_exit(0);
		}
		CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d failed", i);
	}
	alarm(0);
	stop = 1;
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	printf("%d forks while 4 threads used stdio\n", forks);
}

/* ---- caches: what many threads' caches hold together ---- */

#define CACHED_BLOCKS 300
#define CACHED_SIZE(i) (16 + (size_t)(i) * 977 % 3985)   /* every class of the cache, about 600 KB */
static pthread_barrier_t caches_filled, caches_counted;

static void *cache_thread(void *arg)
{
	char *v[CACHED_BLOCKS];

	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < CACHED_BLOCKS; i++) {
			CHECK((v[i] = malloc(CACHED_SIZE(i))) != NULL, "malloc(%zu) failed", CACHED_SIZE(i));
			pat_fill(v[i], CACHED_SIZE(i), (uint64_t)(intptr_t)arg * CACHED_BLOCKS + (uint64_t)i);
		}
		for (int i = 0; i < CACHED_BLOCKS; i++) {
			CHECK(pat_ok(v[i], CACHED_SIZE(i), (uint64_t)(intptr_t)arg * CACHED_BLOCKS + (uint64_t)i),
			      "thread %d: block %p changed", (int)(intptr_t)arg, (void *)v[i]);
			free(v[i]);
		}
	}
	pthread_barrier_wait(&caches_filled);
	pthread_barrier_wait(&caches_counted);
	return NULL;
}

static void caches(int threads)
{
	pthread_t th[256];
	size_t before, held, budget = (size_t)(cpus() * 256 > 4096 ? cpus() * 256 : 4096) << 10;

	CHECK(threads >= 2 && threads <= 256, "2 to 256 threads");
	before = mallinfo2().uordblks;
	pthread_barrier_init(&caches_filled, NULL, (unsigned)threads + 1);
	pthread_barrier_init(&caches_counted, NULL, (unsigned)threads + 1);
	for (int t = 0; t < threads; t++)
		CHECK(pthread_create(&th[t], NULL, cache_thread, (void *)(intptr_t)t) == 0, "pthread_create");
	pthread_barrier_wait(&caches_filled);
	held = mallinfo2().uordblks - before;
	pthread_barrier_wait(&caches_counted);
	for (int t = 0; t < threads; t++)
		pthread_join(th[t], NULL);
	printf("%d threads that freed everything hold %zu KiB in their caches (shared budget %zu KiB)\n", threads,
	       held / 1024, budget / 1024);
	/* The budget once in the classes and once in deferred frees, counted
	 * by size class (a block may be a little larger), with the floor of
	 * 16 KiB twice for each thread on top: 12 MiB for 64 threads on up to
	 * 16 CPUs, where a full cache's worth each (256 KiB twice) would be 32. */
	CHECK(held <= 2 * budget + (size_t)threads * 65536, "the caches hold %zu KiB: more than their shared budget",
	      held / 1024);
}

/* ---- handoff: blocks freed by the thread that did not allocate them ---- */

#define HANDOFF 24
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *p[HANDOFF];
	size_t n[HANDOFF];
	int full, done;
} box = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
static size_t heap_peak;   /* mallinfo2's heap bytes, the largest the producer saw */

static void *producer(void *arg)
{
	int rounds = (int)(intptr_t)arg;
	uint64_t rs = 17;

	for (int r = 0; r < rounds; r++) {
		size_t heap = mallinfo2().arena;

		heap_peak = heap > heap_peak ? heap : heap_peak;
		pthread_mutex_lock(&box.mu);
		while (box.full)
			pthread_cond_wait(&box.cv, &box.mu);
		for (int i = 0; i < HANDOFF; i++) {
			box.n[i] = i % 3 ? rng_next(&rs) % 500 + 16 : rng_next(&rs) % 4000 + 16;
			CHECK((box.p[i] = malloc(box.n[i])) != NULL, "malloc(%zu) failed", box.n[i]);
			pat_fill(box.p[i], box.n[i], (uint64_t)r * HANDOFF + (uint64_t)i);
		}
		box.full = 1;
		pthread_cond_broadcast(&box.cv);
		pthread_mutex_unlock(&box.mu);
	}
	pthread_mutex_lock(&box.mu);
	while (box.full)
		pthread_cond_wait(&box.cv, &box.mu);
	box.done = 1;
	pthread_cond_broadcast(&box.cv);
	pthread_mutex_unlock(&box.mu);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (int r = 0;; r++) {
		pthread_mutex_lock(&box.mu);
		while (!box.full && !box.done)
			pthread_cond_wait(&box.cv, &box.mu);
		if (box.done) {
			pthread_mutex_unlock(&box.mu);
			return NULL;
		}
		for (int i = 0; i < HANDOFF; i++) {
			CHECK(pat_ok(box.p[i], box.n[i], (uint64_t)r * HANDOFF + (uint64_t)i),
			      "block %p (%zu bytes) of round %d damaged on its way to the consumer", (void *)box.p[i],
			      box.n[i], r);
			free(box.p[i]);
		}
		box.full = 0;
		pthread_cond_broadcast(&box.cv);
		pthread_mutex_unlock(&box.mu);
	}
}

static void *free_all(void *arg)
{
	char **v = arg;

	for (int i = 0; i < 20; i++)
		free(v[i]);
	return NULL;
}

static void handoff(int rounds)
{
	pthread_t p, c;
	char *v[20];
	size_t before, after;

	CHECK(pthread_create(&c, NULL, consumer, NULL) == 0, "pthread_create");
	CHECK(pthread_create(&p, NULL, producer, (void *)(intptr_t)rounds) == 0, "pthread_create");
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	printf("%d rounds of %d blocks: the heap peaked at %zu KiB\n", rounds, HANDOFF, heap_peak / 1024);
	/* About 33 MiB pass through; what is live at once is under 40 KiB. */
	CHECK(heap_peak < 4 << 20, "the heap reached %zu KiB: blocks freed by the consumer did not come back",
	      heap_peak / 1024);

	malloc_trim(0);   /* this thread's cache back, other threads' frees taken in */
	before = mallinfo2().uordblks;
	for (int i = 0; i < 20; i++)
		CHECK((v[i] = malloc(1000)) != NULL, "malloc failed");
	CHECK(pthread_create(&c, NULL, free_all, v) == 0, "pthread_create");
	pthread_join(c, NULL);
	malloc_trim(0);
	after = mallinfo2().uordblks;
	printf("20 blocks of 1000 bytes freed by a thread that then exited: in use %zu -> %zu bytes\n", before, after);
	CHECK(after < before + 4096, "in use %zu bytes, %zu before: the exited thread's frees did not arrive", after,
	      before);
}

/* ---- first: which thread arena 0 is for ---- */

/* The thread count of each of malloc_stats' arena lines into count[]
 * (indexed by arena, -1 where no line), and with used its bytes in use
 * into used[]: how many lines. */
static int arena_threads(int *count, size_t *used, int max)
{
	char buf[16384], *p = buf;
	int k, t, n = arena_lines(buf, sizeof buf);
	size_t heap, segs, u;

	for (int i = 0; i < max; i++)
		count[i] = -1;
	while ((p = strstr(p, "osmem arena "))) {
		char *eol = strchr(p, '\n'), *c;

		if (eol)
			*eol = 0;
		c = strrchr(p, ',');
		if (sscanf(p, "osmem arena %d:", &k) == 1 && c && sscanf(c, ", %d threads", &t) == 1 && k >= 0 && k < max) {
			count[k] = t;
			if (used && sscanf(p, "osmem arena %d: %zu bytes in %zu segments, %zu in use", &k, &heap, &segs, &u) == 4)
				used[k] = u;
		}
		p = eol ? eol + 1 : p + 1;
	}
	return n;
}

/* The calling thread binds now (the process has threads): a few blocks
 * through its arena. */
static void churn_some(void)
{
	void *v[64];

	for (int r = 0; r < 4; r++) {
		for (int i = 0; i < 64; i++)
			CHECK((v[i] = malloc(300 + 16 * i)) != NULL, "malloc failed");
		for (int i = 0; i < 64; i++)
			free(v[i]);
	}
}

/* Arena 0 has one thread, the caller, and one other arena the other one. */
static void expect_first_on_zero(const char *who)
{
	int count[64], others = 0;

	arena_threads(count, NULL, 64);
	for (int i = 1; i < 64; i++)
		others += count[i] > 0 ? count[i] : 0;
	CHECK(count[0] == 1 && others == 1, "%s: arena 0 has %d threads, the others %d (want 1 and 1)", who, count[0],
	      others);
}

static pthread_barrier_t first_a, first_b;

/* The thread that is not the first (in the parent, or in a fork child
 * beside the thread that forked). */
static void *first_other(void *arg)
{
	(void)arg;
	churn_some();
	pthread_barrier_wait(&first_a);   /* bound: now the first thread binds */
	pthread_barrier_wait(&first_b);   /* counted */
	return NULL;
}

/* Another thread binds first, then the caller, the first thread: it must
 * be on arena 0. */
static void bind_after_other(const char *who)
{
	pthread_t t;

	pthread_barrier_init(&first_a, NULL, 2);
	pthread_barrier_init(&first_b, NULL, 2);
	CHECK(pthread_create(&t, NULL, first_other, NULL) == 0, "%s: pthread_create", who);
	pthread_barrier_wait(&first_a);
	churn_some();
	expect_first_on_zero(who);
	pthread_barrier_wait(&first_b);
	pthread_join(t, NULL);
}

static void *forker(void *arg)
{
	pid_t pid;
	int status;

	(void)arg;
	pid = fork();   /* this thread has not allocated: it has no arena */
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		bind_after_other("fork child");
		_exit(0);
	}
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	return (void *)(intptr_t)(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void first(void)
{
	pthread_t t;
	void *ok;

	bind_after_other("parent");
	/* A thread that never allocated forks: the child's first thread is it. */
	CHECK(pthread_create(&t, NULL, forker, NULL) == 0, "pthread_create");
	pthread_join(t, &ok);
	CHECK(ok != NULL, "the fork child failed its check (its first thread not on arena 0)");
	puts("first thread on arena 0, in the parent and in a child forked by another thread");
}

/* ---- stranded: frees that arrive after an arena's last thread left ---- */

/* Of the pages wholly inside [p, p + n), how many there are (*all) and
 * how many are resident (the return). */
static size_t resident_pages(char *p, size_t n, size_t *all)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1), b = ((uintptr_t)p + n) & ~(pg - 1);
	unsigned char vec[64];
	size_t k = (b - a) / pg, in = 0;

	CHECK(b > a && k <= sizeof vec, "a range of %zu pages", k);
	CHECK(mincore((void *)a, b - a, vec) == 0, "mincore: %s", strerror(errno));
	for (size_t i = 0; i < k; i++)
		in += vec[i] & 1;
	*all += k;
	return in;
}


/* An entry into the caller's arena: a size no thread cache keeps. */
static void enter_arena(void)
{
	void *p = malloc(8000);

	CHECK(p != NULL, "malloc failed");
	free(p);
}


#define STRANDED 10

static char *stranded_blk[STRANDED];
static pthread_barrier_t strand_made, strand_freed, strand_go, strand_sent;

/* The bytes in use that malloc_stats reports for arena id. */
static size_t arena_in_use(int id)
{
	int count[64];
	size_t used[64] = { 0 };

	arena_threads(count, used, 64);
	CHECK(count[id] >= 0, "malloc_stats has no line for arena %d", id);
	return used[id];
}

/* The first thread after main's: arena 1's. Its blocks go to the other
 * thread, which frees them while this one still holds the arena. */
static void *strand_owner(void *arg)
{
	(void)arg;
	for (int i = 0; i < STRANDED; i++) {
		CHECK((stranded_blk[i] = malloc(20000)) != NULL, "malloc failed");
		memset(stranded_blk[i], 7, 20000);
	}
	pthread_barrier_wait(&strand_made);
	pthread_barrier_wait(&strand_freed);   /* then it exits: arena 1 has no thread */
	return NULL;
}

static void *strand_freer(void *arg)
{
	(void)arg;
	churn_some();   /* binds: arena 2 */
	pthread_barrier_wait(&strand_made);
	for (int i = 0; i < STRANDED; i++)
		free(stranded_blk[i]);   /* onto arena 1's remote list, the last in the outbox */
	pthread_barrier_wait(&strand_freed);
	pthread_barrier_wait(&strand_go);   /* the owner has gone */
	enter_arena();   /* sends the outbox: to a remote list no thread of its own takes back */
	pthread_barrier_wait(&strand_sent);
	pthread_barrier_wait(&strand_sent);
	return NULL;
}

static void stranded(void)
{
	pthread_t owner, freer;
	size_t used = 0;
	const char *decay = getenv("OSMEM_DECAY_MS");

	CHECK(decay && atoi(decay) > 0 && atoi(decay) <= 200, "run it with OSMEM_DECAY_MS=200");
	pthread_barrier_init(&strand_made, NULL, 2);
	pthread_barrier_init(&strand_freed, NULL, 2);
	pthread_barrier_init(&strand_go, NULL, 2);
	pthread_barrier_init(&strand_sent, NULL, 2);
	CHECK(pthread_create(&owner, NULL, strand_owner, NULL) == 0, "pthread_create");
	while (arena_lines((char[16384]){ 0 }, 16384) < 2)
		usleep(1000);
	CHECK(pthread_create(&freer, NULL, strand_freer, NULL) == 0, "pthread_create");
	pthread_join(owner, NULL);
	CHECK((used = arena_in_use(1)) >= 20000, "arena 1 has %zu bytes in use once its thread has gone: nothing waits", used);
	pthread_barrier_wait(&strand_go);
	pthread_barrier_wait(&strand_sent);
	/* Watched by their pages, not by malloc_stats: taking the arena's lock
	 * to count would take the list back itself. Free, they decay. */
	for (int t = 0; t < 200; t++) {
		size_t all = 0;

		used = 0;
		for (int i = 0; i < STRANDED; i++)
			used += resident_pages(stranded_blk[i], 20000, &all);
		if (!used)
			break;
		usleep(10000);
	}
	pthread_barrier_wait(&strand_sent);
	pthread_join(freer, NULL);
	CHECK(!used, "%zu pages of the blocks freed into arena 1 are still resident 2 s on", used);
	puts("the blocks freed into an arena after its last thread left are free again, and decay gave them back");
}

/* ---- crowd: more threads than the arenas have room for ---- */

#define CROWD_PER_CPU 16   /* tune.c's */
#define HELD 32            /* blocks each first thread keeps in its first arena */
#define HELD_SIZE 20000   /* each at least the 16 KiB decay looks at */

static pthread_barrier_t crowd_bound, crowd_entered, crowd_counted, crowd_freed, crowd_gone;
static char *held[64][HELD + 1];   /* and one freed last (first_bound) */

/* One of the 2N - 1 threads that bind before the crowd, each to an arena
 * of its own: it keeps HELD blocks there, below one that pins the top
 * (so that only purged pages, not a trimmed top, can give them back),
 * and frees them once the crowd has made it enter again. */
static void *first_bound(void *arg)
{
	int k = (int)(intptr_t)arg;
	char *pin;

	churn_some();
	for (int i = 0; i <= HELD; i++) {
		CHECK((held[k][i] = malloc(HELD_SIZE)) != NULL, "malloc failed");
		memset(held[k][i], k + 1, HELD_SIZE);
	}
	CHECK((pin = malloc(5000)) != NULL, "malloc failed");
	pthread_barrier_wait(&crowd_bound);   /* the crowd binds */
	pthread_barrier_wait(&crowd_bound);
	enter_arena();
	pthread_barrier_wait(&crowd_entered);   /* every thread has moved where it must */
	pthread_barrier_wait(&crowd_counted);
	for (int i = 0; i < HELD; i++) {
		for (size_t j = 0; j < HELD_SIZE; j += 512)
			CHECK(held[k][i][j] == (char)(k + 1), "thread %d: a kept block changed", k);
		free(held[k][i]);
	}
	/* A block that found the arena's lock taken (by osmem's purger) waits
	 * in this thread's outbox: an entry sends it to the arena's remote
	 * list, and the next free there takes the list back. */
	enter_arena();
	free(held[k][HELD]);
	pthread_barrier_wait(&crowd_counted);
	pthread_barrier_wait(&crowd_gone);   /* the crowd has left */
	free(pin);
	return NULL;
}

static void *crowd_member(void *arg)
{
	(void)arg;
	churn_some();
	pthread_barrier_wait(&crowd_bound);
	pthread_barrier_wait(&crowd_bound);
	enter_arena();
	pthread_barrier_wait(&crowd_entered);
	pthread_barrier_wait(&crowd_freed);
	return NULL;
}

static void *late_thread(void *arg)
{
	(void)arg;
	churn_some();
	pthread_barrier_wait(&crowd_gone);
	return NULL;
}

/* How many first threads' freed blocks are no longer resident (their
 * pages given back), and how many still are: each block on its own, so
 * that blocks of other threads' caches between them do not count. */
static void purged_ranges(int nfirst, int *purged, int *kept)
{
	*purged = *kept = 0;
	for (int k = 0; k < nfirst; k++) {
		size_t in = 0, all = 0;

		for (int i = 0; i <= HELD; i++)
			in += resident_pages(held[k][i], HELD_SIZE, &all);
		*purged += in * 10 < all;
		*kept += in * 10 > all * 9;
	}
}

/* On more than 2 CPUs, this program again on the first two it may use:
 * osmem reads the CPU count when it starts. */
static void on_two_cpus(char **argv)
{
	cpu_set_t set, two;
	int n = 0;

	if (cpus() <= 2)
		return;
	CHECK(sched_getaffinity(0, sizeof set, &set) == 0, "sched_getaffinity: %s", strerror(errno));
	CPU_ZERO(&two);
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set)) {
			CPU_SET(c, &two);
			n++;
		}
	CHECK(sched_setaffinity(0, sizeof two, &two) == 0, "sched_setaffinity: %s", strerror(errno));
	execv("/proc/self/exe", argv);
	FAIL("execv: %s", strerror(errno));
}

static void crowd(char **argv)
{
	int ncpu, nfirst, ncrowd, count[64], past, purged = 0, kept = 0;
	pthread_t first[64], *many, late;
	const char *decay = getenv("OSMEM_DECAY_MS");

	on_two_cpus(argv);
	ncpu = cpus();
	nfirst = 2 * ncpu - 1;
	ncrowd = CROWD_PER_CPU * ncpu + 1;
	CHECK(ncpu <= 2, "%d CPUs: on 2 at most", ncpu);
	CHECK(decay && atoi(decay) >= 60000, "run it with OSMEM_DECAY_MS=60000: then only an abandoned arena gives back");
	CHECK((many = calloc((size_t)ncrowd, sizeof *many)) != NULL, "calloc failed");
	pthread_barrier_init(&crowd_bound, NULL, (unsigned)(nfirst + ncrowd + 1));
	pthread_barrier_init(&crowd_entered, NULL, (unsigned)(nfirst + ncrowd + 1));
	pthread_barrier_init(&crowd_counted, NULL, (unsigned)(nfirst + 1));
	pthread_barrier_init(&crowd_freed, NULL, (unsigned)(ncrowd + 1));
	pthread_barrier_init(&crowd_gone, NULL, (unsigned)(nfirst + 2));
	/* One at a time, so that each takes a new arena: 1 .. 2N - 1. */
	for (int k = 0; k < nfirst; k++) {
		CHECK(pthread_create(&first[k], NULL, first_bound, (void *)(intptr_t)k) == 0, "pthread_create");
		while (arena_threads(count, NULL, 64) < k + 2)
			usleep(1000);
	}
	arena_threads(count, NULL, 64);
	for (int i = 1; i <= nfirst; i++)
		CHECK(count[i] == 1, "before the crowd: arena %d has %d threads (want 1 each in 1..%d)", i, count[i],
		      nfirst);
	for (int k = 0; k < ncrowd; k++)
		CHECK(pthread_create(&many[k], NULL, crowd_member, NULL) == 0, "pthread_create");
	pthread_barrier_wait(&crowd_bound);
	pthread_barrier_wait(&crowd_bound);
	pthread_barrier_wait(&crowd_entered);
	/* Every thread has entered its arena since the crowd came. */
	arena_threads(count, NULL, 64);
	for (int i = ncpu; i < 64; i++)
		CHECK(count[i] <= 0, "%d threads on %d CPUs: arena %d still has %d threads (room for %d)",
		      nfirst + ncrowd, ncpu, i, count[i], ncpu);
	/* What the first threads of those arenas free there now goes back at
	 * once: no thread of theirs to reuse it. */
	pthread_barrier_wait(&crowd_counted);
	pthread_barrier_wait(&crowd_counted);
	purged_ranges(nfirst, &purged, &kept);
	CHECK(purged == ncpu && kept == nfirst - ncpu,
	      "of %d threads' freed blocks, %d are given back and %d resident (want %d and %d)", nfirst, purged, kept,
	      ncpu, nfirst - ncpu);
	pthread_barrier_wait(&crowd_freed);
	for (int k = 0; k < ncrowd; k++)
		pthread_join(many[k], NULL);
	/* The crowd has gone: a new thread takes an arena past one per CPU again. */
	CHECK(pthread_create(&late, NULL, late_thread, NULL) == 0, "pthread_create");
	for (int t = 0; t < 2000; t++) {
		arena_threads(count, NULL, 64);
		past = 0;
		for (int i = ncpu; i < 64; i++)
			past += count[i] > 0 ? count[i] : 0;
		if (past)
			break;
		usleep(1000);
	}
	CHECK(past == 1, "the crowd gone, %d threads in arenas past one per CPU (want the new thread's 1)", past);
	pthread_barrier_wait(&crowd_gone);
	for (int k = 0; k < nfirst; k++)
		pthread_join(first[k], NULL);
	pthread_join(late, NULL);
	free(many);
	printf("%d threads on %d CPUs: room for %d arenas; %d arenas gave back what was freed there\n",
	       nfirst + ncrowd, ncpu, ncpu, purged);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 0;

	require_osmem("arenas");
	if (strcmp(mode, "spread") == 0)
		spread(n, false);
	else if (strcmp(mode, "expect-one") == 0)
		spread(n, true);
	else if (strcmp(mode, "reuse") == 0)
		reuse(n);
	else if (strcmp(mode, "forkbusy") == 0)
		forkbusy(n);
	else if (strcmp(mode, "sigfork") == 0)
		sigfork(n);
	else if (strcmp(mode, "stdiofork") == 0)
		stdiofork(n);
	else if (strcmp(mode, "handoff") == 0)
		handoff(n);
	else if (strcmp(mode, "caches") == 0)
		caches(n);
	else if (strcmp(mode, "first") == 0)
		first();
	else if (strcmp(mode, "crowd") == 0)
		crowd(argv);
	else if (strcmp(mode, "stranded") == 0)
		stranded();
	else
		FAIL("usage: arenas spread|expect-one|reuse|forkbusy|sigfork|stdiofork|handoff|caches|first|crowd|stranded N");
	return 0;
}
