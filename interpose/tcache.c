/* The thread cache: each thread keeps a few freed small blocks per 16-byte
 * size class and hands them back to its next malloc of that class with no
 * lock and no atomic operation (tc_get and tc_put, inline in dropin.h); once
 * there are threads, heap blocks up to 4 KiB too, in wider classes; a
 * request its own class cannot serve takes a block a little larger
 * (tc_get_fit); and the thread's own arena's heap blocks it does not keep
 * wait for its next lock of that arena (tc_defer, tc_release_deferred). Up to
 * SLAB_MAX they are slab objects, above it heap blocks; either way the core
 * still counts them in use, and tc_key in the second word says the program
 * freed them, so a second free is still reported. The cache's links are its
 * own arrays, never the blocks' bytes (issue 12: a use after free that
 * writes a chosen address into a cached block changes nothing). Blocks of any arena may
 * sit here; they go back to their own arenas when the cache is flushed: at
 * malloc_trim and when the thread exits.
 *
 * Bounded by TC_COUNT per class and TC_BYTES, or TC_BYTES_MT once there are
 * threads and every miss takes an arena lock (larson, two threads: 4-9 s with
 * 64 KiB, 0.7-1.2 s with 256 KiB, measured with one lock) - but only for a
 * thread that takes blocks back out of its cache: one that mostly frees what
 * others allocated (a consumer) would only sit on the memory. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/random.h>

#include "dropin.h"

TLS_IE struct tcache tc;
uintptr_t tc_key;
bool tc_off;

static pthread_key_t exit_key;       /* flushes a thread's cache when it exits */
static bool exit_key_ok;

static void at_thread_exit(void *arg)
{
	(void)arg;
	tc_flush();
	arena_outbox_close();
}

void tcache_init(void)
{
	/* Its own random value: a freed block shows it to a use-after-free read,
	 * and it must not give the slabs' secret away. */
	if (getrandom(&tc_key, sizeof tc_key, GRND_NONBLOCK) != (ssize_t)sizeof tc_key)
		tc_key = slab_secret * 0x9e3779b97f4a7c15ULL + 0x243f6a8885a308d3ULL;
	exit_key_ok = pthread_key_create(&exit_key, at_thread_exit) == 0;
}

/* The class of r, a size the cache can hold (a multiple of 16 up to
 * TC_BIG_MAX). */
static inline unsigned class_of(size_t r)
{
	return r <= TC_MAX_SIZE ? (unsigned)(r / 16) - 1
				: TC_CLASSES + (unsigned)((r - TC_MAX_SIZE - 1) / TC_BIG_STEP);
}

/* The big classes only once there are threads: there they save a lock; a
 * single thread would only keep the blocks from merging (its heap's free
 * top, for one). So it never puts into them, nor looks there. */
static inline bool big_off(unsigned c)
{
	return c >= TC_CLASSES && __libc_single_threaded;
}

/* The smallest block big class c holds. */
static inline size_t big_floor(unsigned c)
{
	return TC_MAX_SIZE + 16 + (size_t)(c - TC_CLASSES) * TC_BIG_STEP;
}

/* Slot i of big class c, of z bytes, out of the cache; the newest fills its gap. */
static void *take(unsigned c, unsigned i, size_t z)
{
	void *p = tc.slot[c][i];
	unsigned n = --tc.count[c];

	tc.slot[c][i] = tc.slot[c][n];
	tc.big_size[c - TC_CLASSES][i] = tc.big_size[c - TC_CLASSES][n];
	tc.bytes -= z;
	tc.hits++;
	tc_unmark(p);
	return p;
}

/* Classes are searched upwards from r's own, newest block first: an exact
 * class's blocks all fit (tc_get). In r's own big class any block that
 * holds r will do (it is at most 255 bytes larger); past its own class a
 * block may be TC_FIT_SLACK(r) larger at most, so a request the cache holds
 * no block of its size for still finds one a little larger instead of
 * taking the lock. */
void *tc_get_fit(size_t r)
{
	size_t most = r + TC_FIT_SLACK(r);
	unsigned c = class_of(r), own = c;

	if (c < TC_CLASSES) {
		unsigned last = most > TC_MAX_SIZE ? TC_CLASSES - 1 : (unsigned)(most / 16) - 1;

		for (; c <= last; c++)
			if (tc.count[c])
				return tc_get((size_t)(c + 1) * 16);
		if (most <= TC_MAX_SIZE)
			return NULL;
	}
	if (big_off(c))   /* a single thread's big classes are empty */
		return NULL;
	for (; c < TC_CLASSES + TC_BIG_CLASSES && big_floor(c) <= most; c++) {
		for (unsigned i = tc.count[c]; i--;) {
			size_t z = tc.big_size[c - TC_CLASSES][i];

			if (z >= r && (c == own || z <= most))
				return take(c, i, z);
		}
	}
	return NULL;
}

/* What tc_put leaves to here: full classes, the big classes, and the byte
 * budget, weighed again from the counts (which decay) each time a put would
 * exceed it, as tc_put's inline test sees it; a thread's first put (its
 * budget still 0) also arms the flush at its exit. */
bool tc_put_slow(void *p, size_t r)
{
	unsigned c = class_of(r);

	if (tc_off || r > TC_BIG_MAX || big_off(c) || tc.count[c] >= TC_COUNT)
		return false;
	if (tc.puts >= 1u << 16) {
		tc.puts /= 2;
		tc.hits /= 2;
	}
	if (tc.bytes + r > tc.budget) {
		if (!tc.budget && exit_key_ok)
			pthread_setspecific(exit_key, &tc);
		tc.budget = __libc_single_threaded || tc.hits < tc.puts / 2 ? TC_BYTES : TC_BYTES_MT;
		if (tc.bytes + r > tc.budget)
			return false;
	}
	if (c >= TC_CLASSES)
		tc.big_size[c - TC_CLASSES][tc.count[c]] = (uint16_t)r;
	return tc_push(p, r, c);
}

void tc_release_deferred(struct arena *a)
{
	/* Each taken off before it goes: a report that unwinds (issue 12)
	 * leaves no block here twice. */
	while (tc.ndefer) {
		void *p = tc.defer[--tc.ndefer];
		struct arena *owner = heap_arena_of(p);

		if (owner == a)
			arena_free_locked(a, NULL, p);
		else
			core_remote_push(owner, p);
	}
	tc.defer_bytes = 0;
}

void tc_flush(void)
{
	for (unsigned c = 0; c < TC_CLASSES + TC_BIG_CLASSES; c++) {
		while (tc.count[c]) {
			void *p = tc.slot[c][--tc.count[c]];

			arena_give_back(heap_arena_of(p), slab_of(p), p);
		}
	}
	tc.bytes = 0;
	/* Mostly the first goes alone: the rest follow it while its arena,
	 * the thread's, is locked. */
	while (tc.ndefer) {
		void *p = tc.defer[--tc.ndefer];

		tc.defer_bytes -= block_of(p)->size;
		arena_give_back(heap_arena_of(p), NULL, p);
	}
}
