/* The insight switches, read once from the environment, and what they share:
 * the OSMEM_STATS counters (atomics, touched only while it is on) and report,
 * the OSMEM_CHECK hook, and the dispatch of each call to trace.c and leaks.c.
 * Reports are formatted on the stack and written with write(2), so they work
 * at exit and never allocate. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dropin.h"
#include "insight.h"

bool insight_on;
bool insight_stats;
bool insight_check;
bool insight_trace;
bool insight_leaks;
int insight_depth = 8;

static const char *const call_names[NCALLS] = {
	"malloc", "calloc", "realloc", "reallocarray", "free",
	"posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
};

static struct {
	size_t calls[NCALLS];
	size_t failed;
	size_t requested, usable;   /* bytes asked for, and the usable sizes handed out */
	size_t live, live_peak;     /* usable bytes of the blocks the program holds */
} st;

static const char *stats_to;    /* OSMEM_STATS=PATH; NULL: stderr */
static const char *leaks_to;    /* OSMEM_LEAKS=PATH; NULL: stderr */

const char *call_name(enum call c)
{
	return call_names[c];
}

/* PATH with %p replaced by the process id, so each process of a tree can
 * have a file of its own, opened for appending: its fd, or -1. */
int insight_open(const char *v, char *out, size_t len)
{
	size_t n = 0;

	for (; *v && n + 24 < len; v++) {
		if (v[0] == '%' && v[1] == 'p') {
			n += diag_fmt(out + n, len - n, "%d", (int)getpid());
			v++;
		} else {
			out[n++] = *v;
		}
	}
	out[n] = '\0';
	return open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* "1" means stderr; "0" or empty means off; anything else is a path. */
static bool switch_on(const char *name, const char **path)
{
	const char *v = env_get(name);

	if (!v || !*v || str_same(v, "0"))
		return false;
	if (path)
		*path = str_same(v, "1") ? NULL : v;
	return true;
}

void insight_init(void)
{
	const char *trace_to = NULL, *v;

	insight_stats = switch_on("OSMEM_STATS", &stats_to);
	insight_leaks = switch_on("OSMEM_LEAKS", &leaks_to);
	insight_trace = switch_on("OSMEM_TRACE", &trace_to) && trace_to;
	v = env_get("OSMEM_CHECK");
	insight_check = v && str_same(v, "1");
	v = env_get("OSMEM_TRACE_DEPTH");
	if (v && *v) {
		insight_depth = atoi(v);
		if (insight_depth < 0)
			insight_depth = 0;
		if (insight_depth > INSIGHT_MAX_DEPTH)
			insight_depth = INSIGHT_MAX_DEPTH;
	}
	if (insight_stacks && insight_depth)
		bt_prime();
	if (insight_trace)
		trace_open(trace_to);
	insight_on = insight_stats || insight_trace || insight_leaks;
}

static size_t add(size_t *x, size_t v) { return __atomic_add_fetch(x, v, __ATOMIC_RELAXED); }

static void raise_peak(size_t *peak, size_t v)
{
	size_t cur = __atomic_load_n(peak, __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(peak, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Bytes asked for, from each call's arguments. */
static size_t requested(enum call c, size_t a, size_t b)
{
	size_t t;

	switch (c) {
	case CALL_CALLOC:
	case CALL_REALLOCARRAY:
		return __builtin_mul_overflow(a, b, &t) ? SIZE_MAX : t;
	case CALL_POSIX_MEMALIGN:
	case CALL_ALIGNED_ALLOC:
	case CALL_MEMALIGN:
	case CALL_VALLOC:
	case CALL_PVALLOC:
		return b;
	default:
		return a;
	}
}

/* Nested calls (the unwinder allocating, say) are served but not observed. */
static TLS_IE bool in_hook;

/* The caller's stack, when a trace or the leak report wants it. */
static int stack(void **frames, bool wanted)
{
	return wanted && insight_depth ? bt_capture(frames, insight_depth) : 0;
}

void insight_alloc(enum call c, const void *old, size_t old_usable, size_t a, size_t b,
		   void *p, size_t usable)
{
	void *frames[INSIGHT_MAX_DEPTH];
	int n;

	if (in_hook)
		return;
	in_hook = true;
	if (insight_stats) {
		add(&st.calls[c], 1);
		if (p) {
			add(&st.requested, requested(c, a, b));
			add(&st.usable, usable);
			__atomic_sub_fetch(&st.live, old ? old_usable : 0, __ATOMIC_RELAXED);
			raise_peak(&st.live_peak, add(&st.live, usable));
		} else {
			add(&st.failed, 1);
		}
	}
	n = stack(frames, insight_trace || (insight_leaks && p));
	if (insight_stacks && p) {
		if (old)
			leaks_remove(old);
		leaks_add(p, requested(c, a, b), usable, frames, n);
	}
	if (insight_trace)
		trace_event(c, false, old, a, b, p, usable, frames, n);
	in_hook = false;
}

void insight_free(enum call c, void *p, size_t usable)
{
	void *frames[INSIGHT_MAX_DEPTH];

	if (in_hook)
		return;
	in_hook = true;
	if (insight_stats) {
		add(&st.calls[c], 1);
		__atomic_sub_fetch(&st.live, usable, __ATOMIC_RELAXED);
	}
	if (insight_stacks)
		leaks_remove(p);
	if (insight_trace)
		trace_event(c, true, p, c == CALL_FREE ? usable : 0, 0, NULL, 0, frames, stack(frames, true));
	in_hook = false;
}

static void check_one(struct arena *a, const char *call)
{
	char msg[256];

	if (check_heap(a, msg, sizeof msg) == 0)
		return;
	if (a->id)
		diag_die("osmem: heap check failed in %s(): %s (arena %u)\n", call, msg, a->id);
	diag_die("osmem: heap check failed in %s(): %s\n", call, msg);
}

/* a, whose lock the caller holds, then every other arena whose lock is free
 * this moment: only tried, so that two threads checking at once cannot wait
 * on each other's arenas. */
void insight_check_heap(struct arena *a, const char *call)
{
	check_one(a, call);
	if (__libc_single_threaded)
		return;
	for (struct arena *b = arena_next(NULL); b; b = arena_next(b))
		if (b != a && arena_lock_try(&b->lock)) {
			check_one(b, call);
			arena_lock_drop(&b->lock);
		}
}

int insight_report_fd(const char *tmpl)
{
	char path[256];
	int fd = tmpl ? insight_open(tmpl, path, sizeof path) : 2;

	return fd < 0 ? 2 : fd;
}

static void stats_report(const struct heap_usage *u)
{
	const struct counters *m = &map_counters;
	struct counters k = { 0 };
	char buf[8192], *p = buf, *end = buf + sizeof buf;
	int fd;
#define APPEND(...) do { p += diag_fmt(p, (size_t)(end - p), __VA_ARGS__); if (p > end - 1) p = end - 1; } while (0)

	APPEND("osmem stats: pid %d (%s)\n  calls:", (int)getpid(), program_invocation_short_name);
	for (int c = 0; c < NCALLS; c++)
		APPEND(" %s %zu", call_names[c], st.calls[c]);
	APPEND(", failed %zu\n  bytes: requested %zu, usable %zu\n", st.failed, st.requested, st.usable);
	if (u) {
		size_t frag_pm = u->heap_bytes ? u->free_bytes * 1000 / u->heap_bytes : 0;
		/* Each arena's peak was its own; their sum bounds the heap's. */
		for (struct arena *a = arena_next(NULL); a; a = arena_next(a)) {
			k.heap_peak += a->counters.heap_peak;
			k.brk_calls += a->counters.brk_calls;
			k.returned_bytes += a->counters.returned_bytes;
			k.returns += a->counters.returns;
		}
		APPEND("  peak: heap %zu, mapped %zu, live usable %zu\n"
		       "  syscalls: brk %zu, mmap %zu, munmap %zu, mremap %zu, mprotect %zu\n"
		       "  at exit: heap %zu in %zu segments, in use %zu, free %zu in %zu blocks (largest %zu), "
		       "mapped %zu in %zu blocks, fragmentation 0.%u%u%u\n"
		       "  given back: %zu bytes of free memory in %zu trims and decay passes (OSMEM_DECAY_MS %d)\n",
		       k.heap_peak, m->mapped_peak, st.live_peak,
		       k.brk_calls, m->mmap_calls, m->munmap_calls, m->mremap_calls, m->mprotect_calls,
		       u->heap_bytes, u->segments, u->in_use_bytes, u->free_bytes, u->free_blocks, u->largest_free,
		       u->mapped_bytes, u->mapped_blocks,
		       (unsigned)(frag_pm / 100), (unsigned)(frag_pm / 10 % 10), (unsigned)(frag_pm % 10),
		       k.returned_bytes, k.returns, tune.decay_ms);
		for (struct arena *a = arena_next(NULL); a; a = arena_next(a)) {
			struct heap_usage au = { 0 };

			if (!arena_usage(a, &au)) {
				APPEND("  arena %u: out of service (damaged)\n", a->id);
				continue;
			}
			APPEND("  arena %u: heap %zu (peak %zu) in %zu segments, in use %zu, free %zu in %zu blocks, "
			       "%s %zu, %u threads\n", a->id, au.heap_bytes, a->counters.heap_peak, au.segments,
			       au.in_use_bytes, au.free_bytes, au.free_blocks, a->heap.regions ? "commits" : "brk",
			       a->heap.regions ? a->counters.mprotect_calls : a->counters.brk_calls, a->threads);
		}
	} else {
		APPEND("  peak: live usable %zu\n  (OSMEM_BACKEND=system: heap figures are the system allocator's own)\n",
		       st.live_peak);
	}
#undef APPEND
	fd = insight_report_fd(stats_to);
	(void)!write(fd, buf, (size_t)(p - buf));
	if (fd != 2)
		close(fd);
}

void insight_exit(const struct heap_usage *u)
{
	int saved = errno;

	in_hook = true;   /* what the reports themselves cause is not observed */
	if (insight_stats)
		stats_report(u);
	if (insight_leaks)
		leaks_report(leaks_to);
	if (insight_trace) {
		if (u)
			trace_heap_map();
		trace_close();
	}
	errno = saved;
}

void insight_fork_child(void)
{
	bt_fork_child();
	if (insight_trace)
		trace_fork_child();
	if (insight_stacks)
		leaks_fork_child();
	if (insight_check)
		guard_fork_child();
}
