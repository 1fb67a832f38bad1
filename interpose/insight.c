/* OSMEM_STATS and OSMEM_CHECK. Counters are atomics, touched only while
 * OSMEM_STATS is set; the report is formatted on the stack and written with
 * write(2), so it works at exit without allocating. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "insight.h"

bool insight_stats;
bool insight_check;

static const char *const call_names[NCALLS] = {
	"malloc", "calloc", "realloc", "reallocarray", "free",
	"posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc",
};

static struct {
	size_t calls[NCALLS];
	size_t failed;
	size_t requested, served;   /* bytes asked for and handed out (usable) */
	size_t live, live_peak;     /* bytes the program holds, from its point of view */
} st;

static const char *stats_to;    /* OSMEM_STATS=PATH; NULL: stderr */

static size_t add(size_t *x, size_t v) { return __atomic_add_fetch(x, v, __ATOMIC_RELAXED); }

static void raise_peak(size_t *peak, size_t v)
{
	size_t cur = __atomic_load_n(peak, __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(peak, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* PATH with %p replaced by the process id, so each process of a tree (and
 * each forked child) can have a file of its own. */
static void expand_path(char *out, size_t len, const char *v)
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
}

void insight_init(void)
{
	const char *v = getenv("OSMEM_STATS");

	if (v && *v && strcmp(v, "0") != 0) {
		insight_stats = true;
		if (strcmp(v, "1") != 0)
			stats_to = v;
	}
	v = getenv("OSMEM_CHECK");
	insight_check = v && strcmp(v, "1") == 0;
}

const char *call_name(enum call c)
{
	return call_names[c];
}

void insight_alloc(enum call c, size_t requested, size_t old_usable, size_t usable, bool ok)
{
	add(&st.calls[c], 1);
	if (!ok) {
		add(&st.failed, 1);
		return;
	}
	add(&st.requested, requested);
	add(&st.served, usable);
	__atomic_sub_fetch(&st.live, old_usable, __ATOMIC_RELAXED);
	raise_peak(&st.live_peak, add(&st.live, usable));
}

void insight_free(size_t usable)
{
	add(&st.calls[CALL_FREE], 1);
	__atomic_sub_fetch(&st.live, usable, __ATOMIC_RELAXED);
}

void insight_check_heap(const char *call)
{
	char msg[256];

	if (check_heap(msg, sizeof msg) == 0)
		return;
	diag_die("osmem: heap check failed in %s(): %s\n", call, msg);
}

void insight_report(const struct heap_usage *u)
{
	const struct counters *k = &stats_counters;
	char buf[2048], *p = buf, *end = buf + sizeof buf;
#define APPEND(...) do { p += diag_fmt(p, (size_t)(end - p), __VA_ARGS__); if (p > end - 1) p = end - 1; } while (0)
	size_t frag_pm = u->heap_bytes ? u->free_bytes * 1000 / u->heap_bytes : 0;
	int fd = 2, saved = errno;

	APPEND("osmem stats: pid %d (%s)\n  calls:", (int)getpid(),
		      program_invocation_short_name);
	for (int c = 0; c < NCALLS; c++)
		APPEND(" %s %zu", call_names[c], st.calls[c]);
	APPEND(", failed %zu\n"
		      "  bytes: requested %zu, served %zu\n"
		      "  peak: heap %zu, mapped %zu, live %zu\n"
		      "  syscalls: brk %zu, mmap %zu, munmap %zu\n"
		      "  at exit: heap %zu in %zu segments, in use %zu, free %zu in %zu blocks (largest %zu), "
		      "mapped %zu in %zu blocks, fragmentation 0.%u%u%u\n",
		      st.failed, st.requested, st.served,
		      k->heap_peak, k->mapped_peak, st.live_peak,
		      k->brk_calls, k->mmap_calls, k->munmap_calls,
		      u->heap_bytes, u->segments, u->in_use_bytes, u->free_bytes, u->free_blocks, u->largest_free,
		      u->mapped_bytes, u->mapped_blocks,
		      (unsigned)(frag_pm / 100), (unsigned)(frag_pm / 10 % 10), (unsigned)(frag_pm % 10));
	if (stats_to) {
		char path[256];
		expand_path(path, sizeof path, stats_to);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			fd = 2;
	}
	(void)!write(fd, buf, (size_t)(p - buf));
#undef APPEND
	if (fd != 2)
		close(fd);
	errno = saved;
}
