/* OSMEM_TRACE=PATH: one line per call, appended to a shared buffer and
 * written out in large pieces. Each line:
 *
 *   NS TID CALL ARGS -> RESULT USABLE heap=H mapped=M [| FRAME ; FRAME ...]
 *   NS TID free PTR USABLE heap=H mapped=M [| FRAME ; ...]
 *   NS TID realloc PTR 0 heap=H mapped=M [| ...]          (realloc(p, 0): a free)
 *
 * ARGS: malloc N; calloc NMEMB SIZE; realloc PTR N; reallocarray PTR NMEMB
 * SIZE; posix_memalign, aligned_alloc, memalign ALIGN N; valloc, pvalloc N.
 * RESULT is 0x0 for a failed call. NS is CLOCK_MONOTONIC in nanoseconds, H
 * and M the heap and mapped bytes after the call (headers included), each
 * FRAME "ADDR [SYMBOL+OFF (FILE)]". At exit the heap's blocks follow, one
 * "block ADDR PAYLOAD alloc|free|cached" (a 32-byte header at ADDR) or
 * "mapped ADDR BYTES" (the whole mapping) line each, then "end".
 * scripts/osmem-plot draws both. The file is appended to: use %p in the path
 * for one file per process (children of an exec inherit OSMEM_TRACE). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dropin.h"
#include "insight.h"

#define TRACE_BUF (256 * 1024)
#define LINE_MAX_LEN 4096

static int fd = -1;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char buf[TRACE_BUF];
static size_t used;
static TLS_IE int tid;

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

static void emit(const char *line, size_t len)
{
	pthread_mutex_lock(&mu);
	if (used + len > sizeof buf)
		flush_locked();
	memcpy(buf + used, line, len);
	used += len;
	pthread_mutex_unlock(&mu);
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

void trace_event(enum call c, bool freeing, const void *arg0, size_t a, size_t b, const void *result,
		 size_t usable, void *const *frames, int nframes)
{
	char line[LINE_MAX_LEN], *p = line, *end = line + sizeof line - 1;
	struct timespec ts;
#define APPEND(f) do { p += (f); if (p > end - 1) p = end - 1; } while (0)

	if (!tid)
		tid = (int)gettid();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	APPEND(diag_fmt(p, (size_t)(end - p), "%lu %d %s ",
			(unsigned long)ts.tv_sec * 1000000000ul + (unsigned long)ts.tv_nsec, tid, call_name(c)));
	if (freeing)
		APPEND(diag_fmt(p, (size_t)(end - p), c == CALL_FREE ? "%p %zu" : "%p 0", arg0, a));
	else
		APPEND(call_args(p, (size_t)(end - p), c, arg0, a, b));
	if (!freeing)
		APPEND(diag_fmt(p, (size_t)(end - p), " -> %p %zu", result, usable));
	APPEND(diag_fmt(p, (size_t)(end - p), " heap=%zu mapped=%zu", heap_bytes(),
			map_counters.mapped_bytes));
	for (int i = 0; i < nframes; i++) {
		APPEND(diag_fmt(p, (size_t)(end - p), i ? " ; " : " | "));
		APPEND(bt_symbolize(frames[i], p, (size_t)(end - p)));
	}
	*p++ = '\n';
#undef APPEND
	emit(line, (size_t)(p - line));
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
	flush_locked();
	pthread_mutex_unlock(&mu);
}

/* The child starts with the parent's unwritten lines: they are the parent's
 * to write. Its own go to the same file. */
void trace_fork_child(void)
{
	pthread_mutex_init(&mu, NULL);
	used = 0;
	tid = 0;
}
