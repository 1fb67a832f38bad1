/* OSMEM_TRACE=PATH: one line per call, appended to a shared buffer and
 * written out in large pieces. After the header line
 *
 *   # osmem trace: pid PID (PROGRAM), backtraces on|off (WHY), depth D
 *
 * each line is one of
 *
 *   NS TID CALL ARGS -> RESULT USABLE heap=H mapped=M rss=R [| FRAME ; FRAME ...]
 *   NS TID free PTR USABLE heap=H mapped=M rss=R [| FRAME ; ...]
 *   NS TID realloc PTR 0 heap=H mapped=M rss=R [| ...]    (realloc(p, 0): a free)
 *   NS TID decay BYTES heap=H mapped=M rss=R              (a decay pass gave BYTES back)
 *   NS TID trim BYTES heap=H mapped=M rss=R               (any other trim did)
 *
 * ARGS: malloc N; calloc NMEMB SIZE; realloc PTR N; reallocarray PTR NMEMB
 * SIZE; posix_memalign, aligned_alloc, memalign ALIGN N; valloc, pvalloc N.
 * RESULT is 0x0 for a failed call. NS is CLOCK_MONOTONIC in nanoseconds, H
 * and M the heap and mapped bytes after the call (headers included), R the
 * process's resident bytes (/proc/self/statm) as last sampled: at most
 * RSS_EVERY_NS old on a call's line, taken afresh on a decay or trim line.
 * Those two are written where the memory goes back, under the arena's lock,
 * by whichever thread gives it back (the purger, osmem-purge, in an idle
 * threaded process), so the trace shows it without a further call. Each
 * FRAME "ADDR [SYMBOL+OFF (FILE)]". At exit the heap's blocks follow, one
 * "block ADDR PAYLOAD alloc|free|cached|slab" (a 32-byte header at ADDR) or
 * "mapped ADDR BYTES" (the whole mapping) line each, then "end"; nothing
 * after it. Traces written before rss= existed end their lines at mapped=M.
 * scripts/osmem-plot draws both. The file is appended to: use %p in the path
 * for one file per process (children of an exec inherit OSMEM_TRACE).
 *
 * Locks: mu, taken only inside emit and around the final flush, guards the
 * buffer; nothing is called while it is held but memcpy and write, so a
 * thread holding an arena's lock (the decay and trim lines) may take it:
 * the order is always an arena's lock, then mu. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dropin.h"
#include "insight.h"

#define TRACE_BUF (256 * 1024)
#define LINE_MAX_LEN 4096
/* A decay or trim line's room: its longest, 20-digit numbers throughout,
 * is 32 + 26 + 79 bytes and the newline. */
#define GIVEN_LINE 160

static int fd = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char buf[TRACE_BUF];
static size_t used;
static bool ended;       /* the map at exit has begun: no decay or trim line after it */
static TLS_IE int tid;
static size_t page_size;

static void flush_locked(void)
{
	size_t off = 0;

	while (off < used) {
		ssize_t w = write(fd, buf + off, used - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	used = 0;
}

/* late: a decay or trim line, which the purger may write at any time:
 * dropped once the map at exit has begun, so that "end" stays last. */
static void emit_line(const char *line, size_t len, bool late)
{
	pthread_mutex_lock(&mu);
	if (!(late && ended)) {
		if (used + len > sizeof buf)
			flush_locked();
		memcpy(buf + used, line, len);
		used += len;
	}
	pthread_mutex_unlock(&mu);
}

static void emit(const char *line, size_t len)
{
	emit_line(line, len, false);
}

void trace_open(const char *tmpl)
{
	char path[256], head[256];

	fd = insight_open(tmpl, path, sizeof path);
	if (fd < 0) {
		diag_fmt(head, sizeof head, "osmem: OSMEM_TRACE: cannot open %s; not tracing\n", path);
		diag_write(head);
		insight_trace = false;
		return;
	}
	page_size = (size_t)getpagesize();
	emit(head, diag_fmt(head, sizeof head, "# osmem trace: pid %d (%s), backtraces %s%s%s, depth %d\n",
			    (int)getpid(), program_invocation_short_name,
			    !insight_depth ? "off (OSMEM_TRACE_DEPTH=0" : bt_missing() ? "off (" : "on",
			    insight_depth && bt_missing() ? bt_missing() : "",
			    !insight_depth || bt_missing() ? ")" : "", insight_depth));
}

/* The arguments of each call as the trace shows them. */
static size_t call_args(char *out, size_t len, enum call c, const void *arg0, size_t a, size_t b)
{
	switch (c) {
	case CALL_CALLOC:
	case CALL_POSIX_MEMALIGN:
	case CALL_ALIGNED_ALLOC:
	case CALL_MEMALIGN:
		return diag_fmt(out, len, "%zu %zu", a, b);
	case CALL_REALLOC:
		return diag_fmt(out, len, "%p %zu", arg0, a);
	case CALL_REALLOCARRAY:
		return diag_fmt(out, len, "%p %zu %zu", arg0, a, b);
	case CALL_VALLOC:
	case CALL_PVALLOC:
		return diag_fmt(out, len, "%zu", b);
	default:
		return diag_fmt(out, len, "%zu", a);
	}
}

/* Every arena's heap bytes: read without their locks, a moment's figure. */
static size_t heap_bytes(void)
{
	size_t n = 0;

	for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
		n += __atomic_load_n(&a->counters.heap_bytes, __ATOMIC_RELAXED);
	return n;
}

/* Resident bytes: /proc/self/statm's second field (pages), read with
 * open, read and close alone, at most every RSS_EVERY_NS (about 5 us a
 * read, so at most 0.05% of a thread's time). Opened afresh each time:
 * /proc/self is resolved at open, so a descriptor kept across fork would
 * read the parent's figures in the child (and one the program closed or
 * reused could read anything). The last figure stays when a read fails. */
#define RSS_EVERY_NS 10000000ul
static uint64_t rss_at;   /* ns of the last sample; 0: none since start or fork */
static size_t rss;

static void rss_sample(void)
{
	char s[128];
	ssize_t n;
	size_t pages = 0;
	const char *p;
	int f = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);

	if (f < 0)
		return;
	/* The system call itself: libc's read is a function lintian counts as
	 * left unfortified (the library is built without _FORTIFY_SOURCE, and
	 * a stack buffer of known size has nothing for it to check). */
	n = syscall(SYS_read, f, s, sizeof s - 1);
	close(f);
	if (n <= 0)
		return;
	s[n] = '\0';
	for (p = s; *p >= '0' && *p <= '9'; p++)   /* size */
		;
	if (*p++ != ' ' || *p < '0' || *p > '9')
		return;
	for (; *p >= '0' && *p <= '9'; p++)        /* resident */
		pages = pages * 10 + (size_t)(*p - '0');
	__atomic_store_n(&rss, pages * page_size, __ATOMIC_RELAXED);
}

/* The figure for a line written at now: sampled again when the last sample
 * is RSS_EVERY_NS old (by one thread; the others use the last figure) or,
 * fresh, always. errno survives: free's does. */
static size_t resident(uint64_t now, bool fresh)
{
	uint64_t last = __atomic_load_n(&rss_at, __ATOMIC_RELAXED);
	int saved;

	if (fresh ? (__atomic_store_n(&rss_at, now, __ATOMIC_RELAXED), true)
		  : (int64_t)(now - last) >= (int64_t)RSS_EVERY_NS &&
		    __atomic_compare_exchange_n(&rss_at, &last, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		saved = errno;
		rss_sample();
		errno = saved;
	}
	return __atomic_load_n(&rss, __ATOMIC_RELAXED);
}

/* "NS TID " into out (len bytes at least 32); *ns the time. */
static size_t line_head(char *out, size_t len, uint64_t *ns)
{
	struct timespec ts;

	if (!tid)
		tid = (int)gettid();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	*ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return diag_fmt(out, len, "%lu %d ", (unsigned long)*ns, tid);
}

/* " heap=H mapped=M rss=R" for a line written at ns. */
static size_t line_figures(char *out, size_t len, uint64_t ns, bool fresh)
{
	return diag_fmt(out, len, " heap=%zu mapped=%zu rss=%zu", heap_bytes(),
			__atomic_load_n(&map_counters.mapped_bytes, __ATOMIC_RELAXED), resident(ns, fresh));
}

void trace_event(enum call c, bool freeing, const void *arg0, size_t a, size_t b, const void *result,
		 size_t usable, void *const *frames, int nframes)
{
	char line[LINE_MAX_LEN], *p = line, *end = line + sizeof line - 1;
	uint64_t ns;
#define APPEND(f) do { p += (f); if (p > end - 1) p = end - 1; } while (0)

	APPEND(line_head(p, (size_t)(end - p), &ns));
	APPEND(diag_fmt(p, (size_t)(end - p), "%s ", call_name(c)));
	if (freeing)
		APPEND(diag_fmt(p, (size_t)(end - p), c == CALL_FREE ? "%p %zu" : "%p 0", arg0, a));
	else
		APPEND(call_args(p, (size_t)(end - p), c, arg0, a, b));
	if (!freeing)
		APPEND(diag_fmt(p, (size_t)(end - p), " -> %p %zu", result, usable));
	APPEND(line_figures(p, (size_t)(end - p), ns, false));
	for (int i = 0; i < nframes; i++) {
		APPEND(diag_fmt(p, (size_t)(end - p), i ? " ; " : " | "));
		APPEND(bt_symbolize(frames[i], p, (size_t)(end - p)));
	}
	*p++ = '\n';
#undef APPEND
	emit(line, (size_t)(p - line));
}

/* Called under an arena's lock (arena.c's returned), from any thread: it
 * allocates nothing and takes only mu. */
void trace_given(const char *why, size_t bytes)
{
	char line[GIVEN_LINE];
	size_t n;
	uint64_t ns;

	n = line_head(line, sizeof line, &ns);
	n += diag_fmt(line + n, sizeof line - n, "%s %zu", why, bytes);
	n += line_figures(line + n, sizeof line - n - 1, ns, true);
	line[n++] = '\n';
	emit_line(line, n, true);
}

#define MAP_LINE 128   /* a heap map line's room */

static void map_locked(struct arena *a, void *line)
{
	for (struct segment *g = a->heap.segs; g; g = g->next)
		for (char *p = g->base; p < g->end; p = block_end((struct block_meta *)p)) {
			struct block_meta *b = (struct block_meta *)p;
			emit(line, diag_fmt(line, MAP_LINE, "block %p %zu %s\n", (void *)b, b->size,
					    b->status == STATUS_FREE ? "free" :
					    (*block_tag(b) & BLOCK_SLAB) ? "slab" :
					    tc_marked(block_payload(b)) ? "cached" : "alloc"));
		}
}

/* Every arena's blocks (one out of service left out: its sizes cannot be
 * trusted to walk by), then the mapped blocks. */
void trace_heap_map(void)
{
	char line[MAP_LINE];

	pthread_mutex_lock(&mu);
	ended = true;
	pthread_mutex_unlock(&mu);

	for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
		arena_with_lock(a, map_locked, line);
	map_lock();
	for (struct block_meta *b = map_blocks(); b; b = b->next)
		emit(line, diag_fmt(line, sizeof line, "mapped %p %zu\n", (void *)b, b->size + HDR));
	map_unlock();
	emit("end\n", 4);
}

void trace_close(void)
{
	pthread_mutex_lock(&mu);
	ended = true;
	flush_locked();
	pthread_mutex_unlock(&mu);
}

/* The child starts with the parent's unwritten lines: they are the parent's
 * to write. Its own go to the same file, with its own resident figure from
 * its first line on. */
void trace_fork_child(void)
{
	pthread_mutex_init(&mu, NULL);
	used = 0;
	tid = 0;
	rss_at = 0;
}
