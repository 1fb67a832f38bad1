/* OSMEM_LEAKS: every live block's allocation stack, and at exit the blocks
 * still live grouped by that stack, largest first.
 *
 * Two open-addressing tables in memory of their own (mmap through the core's
 * map module, never the heap they describe): stacks (sites) with the count
 * and bytes of their live blocks, and live blocks -> sizes and site
 * (ptrtab.c). Both double when half full. One mutex, never held while
 * unwinding. Kept under OSMEM_TRACE too, so that OSMEM_CHECK can name the
 * allocating stack of a damaged block.
 *
 * Left out of the listing, and summed on one line instead: blocks whose whole
 * stack lies in the C library, the loader or osmem (locale data, the loader's
 * own tables: the runtime's, not the program's), stdio's FILE buffers (an
 * _IO_* function allocated them, whoever called printf), and blocks allocated
 * while osmem initialised itself (the bootstrap area). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "insight.h"

/* Bytes are counted twice: as the program asked for them (what valgrind,
 * LeakSanitizer and heaptrack report, and what the report leads with) and as
 * the allocator handed them out (usable sizes: osmem's 16-byte classes, or
 * glibc's under OSMEM_BACKEND=system). */
struct site {
	uint64_t hash;              /* 0: empty slot */
	size_t blocks, bytes, usable;
	int nframes;
	void *frames[INSIGHT_MAX_DEPTH];
};

struct live {
	uintptr_t ptr;              /* the key (ptrtab.c) */
	size_t requested, usable;
	size_t site;                /* slot in sites */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct site *sites;
static size_t nsites, site_cap;
static struct ptrtab lives = { .esize = sizeof(struct live) };
static bool out_of_memory;      /* a table could not grow: the report says so */

static uint64_t stack_hash(void *const *frames, int n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull + (uint64_t)n;

	for (int i = 0; i < n; i++)
		h = ptrtab_mix(h ^ (uintptr_t)frames[i]);
	return h ? h : 1;
}

static bool sites_grow(void)
{
	size_t cap = site_cap ? site_cap * 2 : 1024;
	struct site *t = map_region(cap * sizeof *t);   /* zero-filled */

	if (!t)
		return false;
	for (size_t i = 0; i < site_cap; i++) {
		if (!sites[i].hash)
			continue;
		size_t j = sites[i].hash & (cap - 1);
		while (t[j].hash)
			j = (j + 1) & (cap - 1);
		t[j] = sites[i];
	}
	/* Live entries name sites by slot: renumber them. */
	for (size_t i = 0; i < lives.cap; i++) {
		struct live *l = ptrtab_slot(&lives, i);
		if (!l)
			continue;
		uint64_t h = sites[l->site].hash;
		size_t j = h & (cap - 1);
		while (t[j].hash != h)
			j = (j + 1) & (cap - 1);
		l->site = j;
	}
	if (sites)
		map_region_release(sites, site_cap * sizeof *sites);
	sites = t;
	site_cap = cap;
	return true;
}

/* The slot of a stack, added if new; SIZE_MAX when the table cannot grow. */
static size_t site_of(void *const *frames, int n)
{
	uint64_t h = stack_hash(frames, n);
	size_t j;

	if ((nsites + 1) * 2 > site_cap && !sites_grow())
		return SIZE_MAX;
	for (j = h & (site_cap - 1); sites[j].hash; j = (j + 1) & (site_cap - 1))
		if (sites[j].hash == h && sites[j].nframes == n &&
		    memcmp(sites[j].frames, frames, (size_t)n * sizeof *frames) == 0)
			return j;
	sites[j].hash = h;
	sites[j].nframes = n;
	memcpy(sites[j].frames, frames, (size_t)n * sizeof *frames);
	nsites++;
	return j;
}

/* Adds (sign 1) or takes away (-1) live block l's bytes at its site. */
static void site_count(const struct live *l, int sign)
{
	struct site *s = &sites[l->site];

	s->blocks += (size_t)sign;
	s->bytes += (size_t)sign * l->requested;
	s->usable += (size_t)sign * l->usable;
}

void leaks_add(const void *p, size_t requested, size_t usable, void *const *frames, int nframes)
{
	struct live *l;
	size_t s;
	bool fresh;

	pthread_mutex_lock(&mu);
	s = site_of(frames, nframes);
	l = s == SIZE_MAX ? NULL : ptrtab_put(&lives, (uintptr_t)p, &fresh);
	if (!l) {
		out_of_memory = true;
	} else {
		if (!fresh)
			site_count(l, -1);   /* the same address again: the old entry was missed */
		l->requested = requested;
		l->usable = usable;
		l->site = s;
		site_count(l, 1);
	}
	pthread_mutex_unlock(&mu);
}

void leaks_remove(const void *p)
{
	struct live *l;

	pthread_mutex_lock(&mu);
	/* Absent: allocated before tracking began, or by the bootstrap area. */
	if ((l = ptrtab_find(&lives, (uintptr_t)p))) {
		site_count(l, -1);
		ptrtab_remove(&lives, l);
	}
	pthread_mutex_unlock(&mu);
}

int leaks_stack(const void *p, void **frames)
{
	struct live *l;
	int n = -1;

	pthread_mutex_lock(&mu);
	if ((l = ptrtab_find(&lives, (uintptr_t)p))) {
		n = sites[l->site].nframes;
		memcpy(frames, sites[l->site].frames, (size_t)n * sizeof *frames);
	}
	pthread_mutex_unlock(&mu);
	return n;
}

size_t leaks_frame_line(char *line, size_t len, int i, const void *ip)
{
	size_t n = diag_fmt(line, len, "    #%d ", i);

	n += bt_symbolize(ip, line + n, len - n - 1);
	if (n > len - 2)
		n = len - 2;
	line[n++] = '\n';
	return n;
}

/* The runtime's own blocks: the whole stack in libc and the loader, or a
 * stdio buffer (a FILE's, allocated by _IO_* on the program's first printf). */
static bool runtime_only(const struct site *s)
{
	for (int i = 0; i < s->nframes; i++) {
		bool stdio;
		if (!bt_in_runtime(s->frames[i], &stdio))
			return false;
		if (stdio)
			return true;
	}
	return s->nframes > 0;
}

#define TOP 25

void leaks_report(const char *tmpl)
{
	size_t top[TOP], ntop = 0, listed = 0;
	struct site all = { 0 }, rt = { 0 };   /* sums: the listed sites, the runtime's */
	char line[1024];
	int fd;

	/* At exit: other threads may still run, so the table is read under the lock. */
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < site_cap; i++) {
		struct site *s = &sites[i], *sum;
		if (!s->hash || !s->blocks)
			continue;
		sum = runtime_only(s) ? &rt : &all;
		sum->blocks += s->blocks;
		sum->bytes += s->bytes;
		sum->usable += s->usable;
		if (sum == &rt)
			continue;
		listed++;
		/* Keep the TOP largest, in order: an insertion into a short array. */
		size_t k = ntop < TOP ? ntop++ : TOP;
		while (k > 0 && sites[top[k - 1]].bytes < s->bytes) {
			if (k < TOP)
				top[k] = top[k - 1];
			k--;
		}
		if (k < TOP)
			top[k] = i;
	}
	fd = insight_report_fd(tmpl);
	(void)!write(fd, line, diag_fmt(line, sizeof line,
		"osmem leaks: pid %d (%s): %zu bytes in %zu blocks live at exit (%zu usable), from %zu allocation stacks%s\n",
		(int)getpid(), program_invocation_short_name, all.bytes, all.blocks, all.usable, listed,
		out_of_memory ? " (incomplete: the tables could not grow)" : ""));
	for (size_t t = 0; t < ntop; t++) {
		struct site *s = &sites[top[t]];
		(void)!write(fd, line, diag_fmt(line, sizeof line, "  %zu bytes in %zu blocks (%zu usable) allocated at:\n",
						s->bytes, s->blocks, s->usable));
		if (!s->nframes)
			(void)!write(fd, line, diag_fmt(line, sizeof line, "    (no stack: %s)\n",
				bt_missing() ? bt_missing() : "OSMEM_TRACE_DEPTH=0"));
		for (int f = 0; f < s->nframes; f++)
			(void)!write(fd, line, leaks_frame_line(line, sizeof line, f, s->frames[f]));
	}
	if (listed > ntop)
		(void)!write(fd, line, diag_fmt(line, sizeof line, "  ... and %zu smaller stacks\n", listed - ntop));
	(void)!write(fd, line, diag_fmt(line, sizeof line,
		"  not listed: %zu bytes in %zu blocks (%zu usable) allocated by the C library and the loader themselves (stdio buffers included)\n",
		rt.bytes, rt.blocks, rt.usable));
	pthread_mutex_unlock(&mu);
	if (fd != 2)
		close(fd);
}

void leaks_fork_child(void)
{
	pthread_mutex_init(&mu, NULL);
}
