/* OSMEM_LEAKS: every live block's allocation stack, and at exit the blocks
 * still live grouped by that stack, largest first.
 *
 * Two open-addressing tables in memory of their own (mmap through the core's
 * map module, never the heap they describe): stacks (sites) with the count
 * and bytes of their live blocks, and live blocks -> site. Both double when
 * half full. One mutex, never held while unwinding or symbolising.
 *
 * Left out of the listing, and summed on one line instead: blocks whose whole
 * stack lies in the C library, the loader or osmem (locale data, the loader's
 * own tables: the runtime's, not the program's), stdio's FILE buffers (an
 * _IO_* function allocated them, whoever called printf), and blocks allocated
 * while osmem initialised itself (the bootstrap area). */
#define _GNU_SOURCE
#include <errno.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "insight.h"

struct site {
	uint64_t hash;              /* 0: empty slot */
	size_t blocks, bytes;
	int nframes;
	void *frames[INSIGHT_MAX_DEPTH];
};

struct live {
	uintptr_t ptr;              /* 0: empty slot */
	size_t usable;
	size_t site;                /* slot in sites */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct site *sites;
static size_t nsites, site_cap;
static struct live *lives;
static size_t nlives, live_cap;
static bool out_of_memory;      /* a table could not grow: the report says so */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static uint64_t stack_hash(void *const *frames, int n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull + (uint64_t)n;

	for (int i = 0; i < n; i++)
		h = mix(h ^ (uintptr_t)frames[i]);
	return h ? h : 1;
}

static void *table_new(size_t bytes)
{
	return map_region(bytes);   /* zero-filled */
}

static void table_free(void *p, size_t bytes)
{
	if (p)
		map_region_release(p, bytes);
}

static bool sites_grow(void)
{
	size_t cap = site_cap ? site_cap * 2 : 1024;
	struct site *t = table_new(cap * sizeof *t);

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
	for (size_t i = 0; i < live_cap; i++) {
		if (!lives[i].ptr)
			continue;
		uint64_t h = sites[lives[i].site].hash;
		size_t j = h & (cap - 1);
		while (t[j].hash != h)
			j = (j + 1) & (cap - 1);
		lives[i].site = j;
	}
	table_free(sites, site_cap * sizeof *sites);
	sites = t;
	site_cap = cap;
	return true;
}

static bool lives_grow(void)
{
	size_t cap = live_cap ? live_cap * 2 : 4096;
	struct live *t = table_new(cap * sizeof *t);

	if (!t)
		return false;
	for (size_t i = 0; i < live_cap; i++) {
		if (!lives[i].ptr)
			continue;
		size_t j = mix(lives[i].ptr) & (cap - 1);
		while (t[j].ptr)
			j = (j + 1) & (cap - 1);
		t[j] = lives[i];
	}
	table_free(lives, live_cap * sizeof *lives);
	lives = t;
	live_cap = cap;
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

void leaks_add(const void *p, size_t usable, void *const *frames, int nframes)
{
	size_t s, j;

	pthread_mutex_lock(&mu);
	if ((nlives + 1) * 2 > live_cap && !lives_grow()) {
		out_of_memory = true;
		goto out;
	}
	s = site_of(frames, nframes);
	if (s == SIZE_MAX) {
		out_of_memory = true;
		goto out;
	}
	for (j = mix((uintptr_t)p) & (live_cap - 1); lives[j].ptr; j = (j + 1) & (live_cap - 1))
		if (lives[j].ptr == (uintptr_t)p)
			break;   /* the same address again: the old entry was missed */
	if (!lives[j].ptr)
		nlives++;
	else {
		sites[lives[j].site].blocks--;
		sites[lives[j].site].bytes -= lives[j].usable;
	}
	lives[j].ptr = (uintptr_t)p;
	lives[j].usable = usable;
	lives[j].site = s;
	sites[s].blocks++;
	sites[s].bytes += usable;
out:
	pthread_mutex_unlock(&mu);
}

void leaks_remove(const void *p)
{
	size_t j, k;

	pthread_mutex_lock(&mu);
	if (!live_cap)
		goto out;
	for (j = mix((uintptr_t)p) & (live_cap - 1); lives[j].ptr; j = (j + 1) & (live_cap - 1))
		if (lives[j].ptr == (uintptr_t)p)
			break;
	if (!lives[j].ptr)
		goto out;   /* allocated before tracking began, or by the bootstrap area */
	sites[lives[j].site].blocks--;
	sites[lives[j].site].bytes -= lives[j].usable;
	nlives--;
	/* Backward-shift deletion keeps every probe run unbroken. */
	lives[j].ptr = 0;
	for (k = (j + 1) & (live_cap - 1); lives[k].ptr; k = (k + 1) & (live_cap - 1)) {
		size_t home = mix(lives[k].ptr) & (live_cap - 1);
		if (((k - home) & (live_cap - 1)) >= ((k - j) & (live_cap - 1))) {
			lives[j] = lives[k];
			lives[k].ptr = 0;
			j = k;
		}
	}
out:
	pthread_mutex_unlock(&mu);
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
	size_t top[TOP], ntop = 0, blocks = 0, bytes = 0, rt_blocks = 0, rt_bytes = 0, listed = 0;
	char line[1024];
	int fd;

	/* At exit: other threads may still run, so the table is read under the lock. */
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < site_cap; i++) {
		struct site *s = &sites[i];
		if (!s->hash || !s->blocks)
			continue;
		if (runtime_only(s)) {
			rt_blocks += s->blocks;
			rt_bytes += s->bytes;
			continue;
		}
		blocks += s->blocks;
		bytes += s->bytes;
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
		"osmem leaks: pid %d (%s): %zu bytes in %zu blocks live at exit, from %zu allocation stacks%s\n",
		(int)getpid(), program_invocation_short_name, bytes, blocks, listed,
		out_of_memory ? " (incomplete: the tables could not grow)" : ""));
	for (size_t t = 0; t < ntop; t++) {
		struct site *s = &sites[top[t]];
		(void)!write(fd, line, diag_fmt(line, sizeof line, "  %zu bytes in %zu blocks allocated at:\n",
						s->bytes, s->blocks));
		if (!s->nframes)
			(void)!write(fd, line, diag_fmt(line, sizeof line, "    (no stack: %s)\n",
				bt_missing() ? bt_missing() : "OSMEM_TRACE_DEPTH=0"));
		for (int f = 0; f < s->nframes; f++) {
			size_t n = diag_fmt(line, sizeof line, "    #%d ", f);
			n += bt_symbolize(s->frames[f], line + n, sizeof line - n - 1);
			if (n > sizeof line - 2)
				n = sizeof line - 2;
			line[n++] = '\n';
			(void)!write(fd, line, n);
		}
	}
	if (listed > ntop)
		(void)!write(fd, line, diag_fmt(line, sizeof line, "  ... and %zu smaller stacks\n", listed - ntop));
	(void)!write(fd, line, diag_fmt(line, sizeof line,
		"  not listed: %zu bytes in %zu blocks allocated by the C library and the loader themselves (stdio buffers included)\n",
		rt_bytes, rt_blocks));
	pthread_mutex_unlock(&mu);
	if (fd != 2)
		close(fd);
}

void leaks_fork_child(void)
{
	pthread_mutex_init(&mu, NULL);
}
