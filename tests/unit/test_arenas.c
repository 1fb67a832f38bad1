/* Several arenas at once, one thread each, and blocks that cross threads.
 *
 * Each thread owns an arena made by heap_new_arena and mixes slab objects,
 * heap blocks and mapped blocks in it: allocations, frees, reallocs, and
 * swaps through a shared exchange, so that blocks end up freed by a thread
 * that does not own them: those go onto the owner's remote list
 * (core_remote_push) and the owner takes them back (core_remote_take). Every
 * block carries its size, kind and arena in words 1 and 2 and a pattern after
 * them, checked before it is freed, resized or passed on; every heap or slab
 * block must be found in its arena from its address (heap_arena_of); each
 * thread checks its arena's heap every CHECK_EVERY operations. At the end,
 * with the threads joined, everything is freed and every arena must be empty
 * and give its regions back. Built plain, with ASan, and with ThreadSanitizer
 * (make unit-tsan).
 *
 *   test_arenas [threads [ops per thread]]    defaults: 8, 20000
 *
 * No stdio and no malloc here, as in every unit test; arena_main (the brk
 * heap) is left alone, since pthread_create uses glibc's malloc. */
#include <pthread.h>
#include <stdint.h>

#include "unit.h"

#define MAX_THREADS 16
#define SLOTS       256
#define XCHG        64
#define CHECK_EVERY 2000
#define THRESH      OSMEM_THRESHOLD

enum kind { K_SLAB = 1, K_HEAP, K_MAPPED };

static struct arena *arenas[MAX_THREADS];
static void *xchg[XCHG];              /* blocks in passing, swapped atomically */
static unsigned nthreads = 8;
static unsigned long ops = 20000;
static unsigned long remote_frees[MAX_THREADS], remote_taken[MAX_THREADS];

struct worker {
	unsigned id;
	uint64_t rng;
	void *slot[SLOTS];
};

static uint64_t rnd(struct worker *w)
{
	uint64_t x = w->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return w->rng = x;
}

static size_t below(struct worker *w, size_t n) { return (size_t)(rnd(w) % n); }

/* Word 0 is left for the remote list's link; words 1 and 2 say what the
 * block is; the pattern fills the rest. */
static inline unsigned char pat(const void *p, size_t i)
{
	return (unsigned char)(((uintptr_t)p >> 4) * 7 + i * 13 + 1);
}

static void *stamp(void *p, size_t n, enum kind k, unsigned owner)
{
	uint64_t *w = p;
	unsigned char *c = p;

	w[1] = n;
	w[2] = (uint64_t)k | (uint64_t)owner << 8;
	for (size_t i = 24; i < n; i++)
		c[i] = pat(p, i);
	return p;
}

static size_t size_of(void *p) { return ((uint64_t *)p)[1]; }
static enum kind kind_of(void *p) { return (enum kind)(((uint64_t *)p)[2] & 0xff); }
static unsigned owner_of(void *p) { return (unsigned)(((uint64_t *)p)[2] >> 8); }

static void verify(void *p, size_t n, const char *when)
{
	unsigned char *c = p;

	if (n < 24 || kind_of(p) < K_SLAB || kind_of(p) > K_MAPPED || owner_of(p) >= nthreads)
		diag_die("test_arenas: %s: block %p: its header words are damaged\n", when, p);
	for (size_t i = 24; i < n; i++)
		if (c[i] != pat(p, i))
			diag_die("test_arenas: %s: block %p (%zu bytes): byte %zu damaged\n", when, p, n, i);
}

static void *alloc(struct worker *w)
{
	struct arena *a = arenas[w->id];
	size_t r = below(w, 100), n;
	void *p;

	if (r < 55) {
		n = 16 * (2 + below(w, 15));                     /* slab: 32..256 */
		p = slab_alloc(a, n);
		EXPECT(p && slab_of(p));
		EXPECT(heap_arena_of(p) == a);
		return stamp(p, n, K_SLAB, w->id);
	}
	n = r < 97 ? ALIGN16(257 + below(w, 16000)) : ALIGN16(THRESH + below(w, 200000));
	struct block_meta *b = core_alloc(a, n, THRESH);
	EXPECT(b != NULL);
	p = block_payload(b);
	if (b->status == STATUS_MAPPED)
		return stamp(p, n, K_MAPPED, w->id);
	EXPECT(b->status == STATUS_ALLOC && heap_arena_of(p) == a && heap_segment_of(a, b));
	return stamp(p, n, K_HEAP, w->id);
}

/* Frees p, a block of the calling thread's arena a. */
static void free_own(struct arena *a, void *p)
{
	switch (kind_of(p)) {
	case K_SLAB:
		slab_free(a, slab_of(p), p);
		break;
	case K_HEAP:
		index_release(a, block_of(p));
		break;
	default:
		map_release(block_of(p));
	}
}

/* Frees p from any thread: a mapped block directly, others by their arena. */
static void free_any(struct worker *w, void *p)
{
	unsigned owner = owner_of(p);

	verify(p, size_of(p), "free");
	if (kind_of(p) == K_MAPPED || owner == w->id) {
		free_own(arenas[w->id], p);
		return;
	}
	EXPECT(heap_arena_of(p) == arenas[owner]);
	core_remote_push(arenas[owner], p);
	__atomic_fetch_add(&remote_frees[owner], 1, __ATOMIC_RELAXED);
}

static void take_remote(unsigned id)
{
	void *p = core_remote_take(arenas[id]), *next;

	for (; p; p = next) {
		next = core_link_next(p);
		if (owner_of(p) != id)
			diag_die("test_arenas: arena %u took back block %p of arena %u\n", id, p, owner_of(p));
		verify(p, size_of(p), "remote");
		free_own(arenas[id], p);
		__atomic_fetch_add(&remote_taken[id], 1, __ATOMIC_RELAXED);
	}
}

static void check_arena(unsigned id)
{
	char m[256];

	if (check_heap(arenas[id], m, sizeof m) != 0)
		diag_die("test_arenas: arena %u: heap check failed: %s\n", id, m);
}

static void resize(struct worker *w, unsigned i)
{
	void *p = w->slot[i], *q;
	size_t n = size_of(p), m;

	if (kind_of(p) != K_HEAP)
		return;
	m = ALIGN16(24 + below(w, 20000));
	verify(p, n, "realloc");
	q = core_realloc(arenas[w->id], p, m, THRESH);
	EXPECT(q != NULL && block_of(q)->status == STATUS_ALLOC);
	/* The kept bytes were stamped for the old address: check them against it. */
	for (size_t k = 24; k < (n < m ? n : m); k++)
		if (((unsigned char *)q)[k] != pat(p, k))
			diag_die("test_arenas: realloc %p -> %p lost byte %zu\n", p, q, k);
	w->slot[i] = stamp(q, m, K_HEAP, w->id);
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (unsigned long op = 1; op <= ops; op++) {
		unsigned i = (unsigned)below(w, SLOTS);
		size_t r = below(w, 100);

		if (!w->slot[i]) {
			w->slot[i] = alloc(w);
		} else if (r < 40) {
			free_any(w, w->slot[i]);
			w->slot[i] = NULL;
		} else if (r < 55) {
			resize(w, i);
		} else {
			/* Pass it on; free whatever was waiting there. */
			void *q = __atomic_exchange_n(&xchg[below(w, XCHG)], w->slot[i], __ATOMIC_ACQ_REL);
			w->slot[i] = NULL;
			if (q)
				free_any(w, q);
		}
		if (op % 64 == 0)
			take_remote(w->id);
		if (op % CHECK_EVERY == 0)
			check_arena(w->id);
	}
	for (unsigned i = 0; i < SLOTS; i++)
		if (w->slot[i])
			free_any(w, w->slot[i]);
	take_remote(w->id);
	check_arena(w->id);
	return NULL;
}

static struct worker workers[MAX_THREADS];

int main(int argc, char **argv)
{
	pthread_t th[MAX_THREADS];
	unsigned long pushed = 0, taken = 0;
	size_t purged = 0;

	if (argc > 1)
		nthreads = (unsigned)strtoul(argv[1], NULL, 0);
	if (argc > 2)
		ops = strtoul(argv[2], NULL, 0);
	EXPECT(nthreads >= 2 && nthreads <= MAX_THREADS);
	slab_init();
	for (unsigned t = 0; t < nthreads; t++) {
		arenas[t] = heap_new_arena();
		EXPECT(arenas[t] != NULL && arenas[t] != &arena_main);
		check_arena(t);
		workers[t].id = t;
		workers[t].rng = 0x9E3779B97F4A7C15ull * (t + 1);
	}
	for (unsigned t = 0; t < nthreads; t++)
		EXPECT(pthread_create(&th[t], NULL, work, &workers[t]) == 0);
	for (unsigned t = 0; t < nthreads; t++)
		EXPECT(pthread_join(th[t], NULL) == 0);

	/* The pages inside every free block of 16 KiB or more given back
	 * (malloc_trim's purge): the heap stays valid, and the blocks still
	 * passing keep their contents (verified next). */
	for (unsigned t = 0; t < nthreads; t++) {
		take_remote(t);
		purged += heap_purge(arenas[t], 16 * 1024);
		check_arena(t);
	}

	/* Alone now: free what is still passing, as its owner. */
	for (unsigned k = 0; k < XCHG; k++)
		if (xchg[k]) {
			verify(xchg[k], size_of(xchg[k]), "exchange");
			free_own(arenas[owner_of(xchg[k])], xchg[k]);
		}
	for (unsigned t = 0; t < nthreads; t++) {
		struct heap_usage u = { 0 };

		take_remote(t);
		pushed += remote_frees[t];
		taken += remote_taken[t];
		slab_trim(arenas[t]);
		heap_trim(arenas[t], 0);
		check_arena(t);
		stats_usage(arenas[t], &u);
		if (u.in_use_bytes || u.segments != 1 || u.free_blocks != 1)
			diag_die("test_arenas: arena %u not empty at the end: %zu bytes in use, %zu segments, %zu free blocks\n",
				 t, u.in_use_bytes, u.segments, u.free_blocks);
	}
	EXPECT(pushed == taken && pushed > 0);
	EXPECT(purged > 0);
	EXPECT(map_count() == 0);
	unit_say("test_arenas: ok: %lu threads, each its own arena; %lu blocks freed by another thread and taken back\n",
		 nthreads, pushed);
	unit_say("test_arenas: %lu KiB inside free blocks purged in %lu arenas, the heap valid after\n", purged / 1024,
		 nthreads);
	return 0;
}
