/* The thread cache: each thread keeps a few freed small blocks per 16-byte
 * size class and hands them back to its next malloc of that class with no
 * lock and no atomic operation (tc_get and tc_put, inline in dropin.h); once
 * there are threads, heap blocks up to 4 KiB too, in wider classes
 * (tc_get_big), and the thread's own arena's heap blocks it does not keep
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

/* The big class of size r (TC_MAX_SIZE < r <= TC_BIG_MAX). */
static inline unsigned big_class(size_t r)
{
	return (unsigned)((r - TC_MAX_SIZE - 1) / TC_BIG_STEP);
}

void *tc_get_big(size_t r)
{
	unsigned j = big_class(r), c = TC_CLASSES + j, n = tc.count[c], i = n;
	void *p;

	while (i && tc.big_size[j][i - 1] < r)
		i--;
	if (!i--)
		return NULL;
	p = tc.slot[c][i];
	tc.bytes -= tc.big_size[j][i];
	tc.count[c] = (unsigned char)--n;
	tc.slot[c][i] = tc.slot[c][n];    /* the newest fills the gap */
	tc.big_size[j][i] = tc.big_size[j][n];
	tc.hits++;
	tc_unmark(p);
	return p;
}

/* What tc_put leaves to here: full classes, the big classes, and the byte
 * budget, weighed again from the counts (which decay) each time it is
 * reached; a thread's first put (its budget still 0) also arms the flush at
 * its exit. */
bool tc_put_slow(void *p, size_t r)
{
	unsigned c = r <= TC_MAX_SIZE ? (unsigned)(r / 16) - 1 : TC_CLASSES + big_class(r);

	/* The big classes only once there are threads: there they save a
	 * lock; a single thread would only keep the blocks from merging (its
	 * heap's free top, for one). */
	if (tc_off || r > TC_BIG_MAX || (c >= TC_CLASSES && __libc_single_threaded) || tc.count[c] >= TC_COUNT)
		return false;
	if (!tc.budget && exit_key_ok)
		pthread_setspecific(exit_key, &tc);
	if (tc.puts >= 1u << 16) {
		tc.puts /= 2;
		tc.hits /= 2;
	}
	tc.budget = __libc_single_threaded || tc.hits < tc.puts / 2 ? TC_BYTES : TC_BYTES_MT;
	if (tc.bytes + r > tc.budget)
		return false;
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
