/* memory: resident memory after a peak, as issue 19 asks (benchmark, not a
 * test).
 *
 *   memory light|idle SIZE [-k KEEP] [-t THREADS] [-m MIB] [-a MS] [-i MS] [-o CSV] [-c]
 *
 * Builds MIB MiB (-m, default 300) of blocks of SIZE bytes (16 or more),
 * frees them in the order they were made, and goes on for MS milliseconds
 * (-a, default 3000) after the last free, sampling its own resident set.
 * With -k KEEP, every KEEP-th block of each thread and its last one stay
 * live, so that a heap cannot be given back by trimming its top alone; they
 * are checked and freed after the last sample.
 *
 *   light  one thread builds and frees, then mallocs, fills and frees a
 *          64-byte block every millisecond: an allocator that acts when it
 *          is called can act. No other thread is ever started.
 *   idle   THREADS threads (-t, default 4) each build and free their share,
 *          then wait on a barrier until the end: no malloc or free at all
 *          after the frees, like a server blocked in epoll.
 *
 * Sampling: /proc/self/statm read with pread every -i milliseconds (default
 * 50) into a static array, by the thread that builds (light) or by the main
 * thread, which allocates nothing (idle); once more when every block is
 * made; after the frees, at exact ticks from the moment the last one
 * returned. Nothing is allocated through malloc to sample.
 *
 * Each block's first 8 bytes chain it to the next one of its thread; the
 * rest carries the threaded benchmarks' content pattern (threads/tb.h), one
 * word in every 4 KiB at least, so every page of every block is written and
 * resident. Each block is checked before it is freed, the kept ones after
 * the last sample (a damaged block: status 3; -c flips a byte of the first
 * block made, to show the check catches it).
 *
 * Output: one line on stdout,
 *
 *   memory mode=M size=S keep=K threads=T blocks=N kept=K2 freed_at_ms=F
 *     peak_kib=P freed_kib=R0 end_kib=R1 check=ok
 *
 * (freed_at: when the frees ended, from the start; peak: getrusage's
 * ru_maxrss; freed: the sample as the frees ended; end: the last sample),
 * and with -o CSV the samples, one "ms,rss_kib" line each, ms counted from
 * the end of the frees (negative before it). */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "threads/tb.h"

#define MAX_SAMPLES 65536
#define ACTIVITY_BYTES 64
#define NS_PER_MS 1000000LL

enum mode { LIGHT, IDLE };

static enum mode mode;
static size_t size;
static long keep;
static int threads = 4;
static long mib = 300;
static long after_ms = 3000, tick_ms = 50;
static const char *csv_path;

/* One thread's blocks: chained through their first word, in the order made. */
struct share {
	void *head;
	void *kept;                     /* the blocks it keeps, chained the same way */
	long blocks, kept_count;
};

static struct share shares[TB_MAX_THREADS];
static pthread_barrier_t idle_end;
static atomic_int built_threads, freed_threads;
static _Atomic int64_t t_freed;        /* when the last free returned */

static struct sample {
	int64_t t;
	long rss_kib;
} samples[MAX_SAMPLES];
static int nsamples, statm_fd;
static long page_kib;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until(int64_t t)
{
	struct timespec ts = { t / 1000000000LL, t % 1000000000LL };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The resident set from /proc/self/statm's second field, without malloc. */
static long rss_kib(void)
{
	char buf[128], *p;
	ssize_t n = pread(statm_fd, buf, sizeof buf - 1, 0);

	if (n <= 0)
		tb_die("cannot read /proc/self/statm");
	buf[n] = '\0';
	strtol(buf, &p, 10);
	return strtol(p, NULL, 10) * page_kib;
}

static void sample(int64_t t)
{
	if (nsamples < MAX_SAMPLES)
		samples[nsamples++] = (struct sample){ t, rss_kib() };
}

/* The sampling clock before the frees end: a sample whenever a tick is due. */
static int64_t next_tick;

static void sample_if_due(void)
{
	int64_t t = now_ns();

	if (t >= next_tick) {
		sample(t);
		next_tick += tick_ms * NS_PER_MS;
	}
}

static inline void *next_of(void *p)
{
	void *n;

	memcpy(&n, p, sizeof n);
	return n;
}

static inline void set_next(void *p, void *n)
{
	memcpy(p, &n, sizeof n);
}

static void append(void **head, void **tail, void *p)
{
	set_next(p, NULL);
	if (*tail)
		set_next(*tail, p);
	else
		*head = p;
	*tail = p;
}

/* The pattern lives after the chain word. */
static inline void fill(void *p, unsigned owner)
{
	tb_fill((char *)p + 8, size - 8, owner);
}

static inline void check(void *p, unsigned owner)
{
	tb_check((char *)p + 8, size - 8, owner);
}

/* Builds thread i's share of blocks; the light thread samples as it goes. */
static void build(int i)
{
	struct share *s = &shares[i];
	void *tail = NULL;

	for (long j = 0; j < s->blocks; j++) {
		void *p = malloc(size);
		if (!p)
			tb_die("malloc failed");
		fill(p, i);
		append(&s->head, &tail, p);
		if (mode == LIGHT && (j & 63) == 0)
			sample_if_due();
	}
	atomic_fetch_add(&built_threads, 1);
}

/* Frees thread i's blocks in the order they were made, all but those kept. */
static void free_share(int i)
{
	struct share *s = &shares[i];
	void *kept_tail = NULL;
	long j = 0;

	for (void *p = s->head, *n; p; p = n, j++) {
		n = next_of(p);
		if (keep && (j % keep == keep - 1 || !n)) {
			append(&s->kept, &kept_tail, p);
			s->kept_count++;
		} else {
			check(p, i);
			free(p);
		}
		if (mode == LIGHT && (j & 63) == 0)
			sample_if_due();
	}
	s->head = NULL;
}

static void free_kept(int i)
{
	for (void *p = shares[i].kept, *n; p; p = n) {
		n = next_of(p);
		check(p, i);
		free(p);
	}
}

/* The ticks after the frees, at t_freed + k * tick up to `after`; in light
 * mode a 64-byte block is malloc'ed, filled, checked and freed every
 * millisecond between them. */
static void after_frees(void)
{
	int64_t t0 = atomic_load(&t_freed), end = t0 + after_ms * NS_PER_MS;
	int64_t tick = t0, op = t0;

	for (;;) {
		int64_t t = now_ns();
		if (t >= tick) {
			sample(t);
			if (tick >= end)
				return;
			tick += tick_ms * NS_PER_MS;
		}
		if (mode == LIGHT && t >= op) {
			void *p = tb_malloc(ACTIVITY_BYTES, 0);
			tb_free(p, ACTIVITY_BYTES, 0);
			op += NS_PER_MS;
			if (op < t)
				op = t + NS_PER_MS;      /* fell behind: no burst to catch up */
		}
		sleep_until(mode == LIGHT && op < tick ? op : tick);
	}
}

static void *idle_worker(void *arg)
{
	int i = (int)(long)arg;

	build(i);
	free_share(i);
	if (atomic_fetch_add(&freed_threads, 1) + 1 == threads)
		atomic_store(&t_freed, now_ns());
	pthread_barrier_wait(&idle_end);
	free_kept(i);
	return NULL;
}

static void run_idle(void)
{
	pthread_t th[TB_MAX_THREADS];

	pthread_barrier_init(&idle_end, NULL, threads + 1);
	for (long i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, idle_worker, (void *)i))
			tb_die("pthread_create failed");
	int built = 0;

	while (atomic_load(&freed_threads) < threads) {
		if (!built && atomic_load(&built_threads) == threads) {
			sample(now_ns());        /* the peak, or close to it */
			built = 1;
		} else {
			sample_if_due();
		}
		sleep_until(now_ns() + NS_PER_MS);
	}
	after_frees();
	pthread_barrier_wait(&idle_end);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
}

static void run_light(void)
{
	build(0);
	sample(now_ns());                       /* the peak */
	free_share(0);
	atomic_store(&t_freed, now_ns());
	after_frees();
	free_kept(0);
}

/* The samples as CSV, written after the run with write(2). */
static void write_csv(int64_t t0)
{
	int fd = open(csv_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char line[64];

	if (fd < 0)
		tb_die("cannot create the CSV file");
	if (write(fd, "ms,rss_kib\n", 11) != 11)
		tb_die("cannot write the CSV file");
	for (int k = 0; k < nsamples; k++) {
		int64_t us = (samples[k].t - t0) / 1000;
		int n = snprintf(line, sizeof line, "%s%lld.%03lld,%ld\n", us < 0 ? "-" : "",
				 (long long)llabs(us) / 1000, (long long)llabs(us) % 1000, samples[k].rss_kib);
		if (write(fd, line, n) != n)
			tb_die("cannot write the CSV file");
	}
	close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: memory light|idle SIZE [-k KEEP] [-t THREADS] [-m MIB] [-a MS] "
		"[-i MS] [-o CSV] [-c]\n");
	exit(2);
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi)
		usage();
	return v;
}

static void parse_args(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "k:t:m:a:i:o:c")) != -1) {
		switch (opt) {
		case 'k': keep = number(optarg, 0, 1L << 30); break;
		case 't': threads = (int)number(optarg, 1, TB_MAX_THREADS); break;
		case 'm': mib = number(optarg, 1, 1L << 20); break;
		case 'a': after_ms = number(optarg, 0, 3600000); break;
		case 'i': tick_ms = number(optarg, 1, 60000); break;
		case 'o': csv_path = optarg; break;
		case 'c': tb_corrupt = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (strcmp(argv[optind], "light") == 0)
		mode = LIGHT;
	else if (strcmp(argv[optind], "idle") == 0)
		mode = IDLE;
	else
		usage();
	size = (size_t)number(argv[optind + 1], 16, 1L << 30);
	if (mode == LIGHT)
		threads = 1;
}

int main(int argc, char **argv)
{
	long blocks, kept = 0;
	struct rusage ru;
	int64_t t0;
	long freed_kib = 0;

	tb_name = "memory";
	tb_threads = 1;
	parse_args(argc, argv);
	statm_fd = open("/proc/self/statm", O_RDONLY);
	if (statm_fd < 0)
		tb_die("cannot open /proc/self/statm");
	page_kib = sysconf(_SC_PAGESIZE) / 1024;
	blocks = (long)((mib << 20) / size);
	if (blocks < threads)
		blocks = threads;
	for (int i = 0; i < threads; i++)
		shares[i].blocks = blocks / threads + (i < blocks % threads);

	t0 = now_ns();
	next_tick = t0;
	sample_if_due();
	if (mode == LIGHT)
		run_light();
	else
		run_idle();

	getrusage(RUSAGE_SELF, &ru);
	for (int i = 0; i < threads; i++)
		kept += shares[i].kept_count;
	for (int k = 0; k < nsamples; k++)
		if (samples[k].t >= t_freed) {
			freed_kib = samples[k].rss_kib;
			break;
		}
	if (csv_path)
		write_csv(t_freed);
	printf("memory mode=%s size=%zu keep=%ld threads=%d blocks=%ld kept=%ld freed_at_ms=%.0f "
	       "peak_kib=%ld freed_kib=%ld end_kib=%ld check=ok\n",
	       mode == LIGHT ? "light" : "idle", size, keep, threads, blocks, kept,
	       (t_freed - t0) / 1e6, ru.ru_maxrss, freed_kib, nsamples ? samples[nsamples - 1].rss_kib : 0);
	return 0;
}
