/* realloc of small blocks (slab objects), which the thread's cache serves
 * both ways when the block must move:
 *   - a block kept in place while its new size stays in its class and uses
 *     more than half of it; moved otherwise, into a block of the new size
 *     the cache held (freed just before), its bytes kept; the old block
 *     goes into the cache, and the next malloc of its size gets it back;
 *   - a block another thread allocated (another arena's object) moves the
 *     same way, its bytes kept, and goes back to its own arena;
 *   - 200,000 random reallocs of 64 blocks between 1 and 400 bytes (in and
 *     out of the slab sizes), every block's contents checked before each.
 * (realloc of a small block already freed: double_free realloc.) */
#include "scenario.h"

#include <pthread.h>

static void moves_through_the_cache(size_t from, size_t to)
{
	char *p = malloc(opaque(from)), *c = malloc(opaque(to)), *q, *back;
	uintptr_t cached = (uintptr_t)c, old = (uintptr_t)p;

	CHECK(p && c, "malloc failed");
	free(c);   /* the newest block of its class in the cache */
	pat_fill(p, from, from);
	q = realloc(p, opaque(to));
	CHECK(q != NULL, "realloc(%zu -> %zu) failed", from, to);
	CHECK((uintptr_t)q == cached, "realloc(%zu -> %zu) gave %p, not the cached %#zx", from, to, (void *)q,
	      (size_t)cached);
	CHECK(pat_ok(q, from < to ? from : to, from), "realloc(%zu -> %zu) lost the block's bytes", from, to);
	back = malloc(opaque(from));
	CHECK((uintptr_t)back == old, "malloc(%zu) after realloc moved %#zx gave %p, not that block", from,
	      (size_t)old, (void *)back);
	free(back);
	free(q);
}

static void stays(size_t from, size_t to)
{
	char *p = malloc(opaque(from)), *q;

	CHECK(p != NULL, "malloc failed");
	pat_fill(p, from, 3);
	q = realloc(p, opaque(to));
	CHECK(q == p, "realloc(%zu -> %zu) moved the block", from, to);
	CHECK(pat_ok(q, from < to ? from : to, 3), "realloc(%zu -> %zu) changed the block's bytes", from, to);
	free(q);
}

static void *make(void *arg)
{
	char *p = malloc(opaque(40));

	(void)arg;
	if (p)
		pat_fill(p, 40, 40);
	return p;
}

/* A block of another thread's arena, reallocated here. */
static void from_another_thread(void)
{
	pthread_t t;
	void *p, *q;

	for (int i = 0; i < 100; i++) {
		CHECK(pthread_create(&t, NULL, make, NULL) == 0, "pthread_create");
		CHECK(pthread_join(t, &p) == 0 && p != NULL, "the thread's malloc failed");
		q = realloc(p, opaque(100 + i));
		CHECK(q != NULL && q != p, "realloc of another thread's 40-byte block to %d bytes: %p", 100 + i, q);
		CHECK(pat_ok(q, 40, 40), "realloc of another thread's block lost its bytes");
		free(q);
	}
}

static void random_reallocs(void)
{
	enum { SLOTS = 64, OPS = 200000 };
	char *slot[SLOTS] = { 0 };
	size_t size[SLOTS] = { 0 };
	uint64_t seed[SLOTS] = { 0 }, rs = 42;

	for (unsigned op = 0; op < OPS; op++) {
		unsigned i = (unsigned)(rng_next(&rs) % SLOTS);
		size_t n = 1 + rng_next(&rs) % 400;
		char *q;

		if (slot[i])
			CHECK(pat_ok(slot[i], size[i], seed[i]), "op %u: block %u of %zu bytes changed", op, i, size[i]);
		q = realloc(slot[i], opaque(n));
		CHECK(q != NULL, "realloc(%zu) failed", n);
		CHECK(malloc_usable_size(q) >= n, "realloc(%zu) holds %zu bytes", n, malloc_usable_size(q));
		if (slot[i])
			CHECK(pat_ok(q, size[i] < n ? size[i] : n, seed[i]), "op %u: realloc(%zu -> %zu) lost bytes", op,
			      size[i], n);
		slot[i] = q;
		size[i] = n;
		seed[i] = op;
		pat_fill(q, n, op);
	}
	for (unsigned i = 0; i < SLOTS; i++)
		free(slot[i]);
}

int main(void)
{
	require_osmem("realloc_small");
	/* First, and each in classes of their own: the cache holds no other
	 * block of either size, so the blocks it hands out are known. */
	moves_through_the_cache(16, 24);    /* 16 -> the class of 32 */
	moves_through_the_cache(100, 160);
	moves_through_the_cache(200, 64);   /* a third of its class: moved down */
	moves_through_the_cache(256, 300);  /* out of the slab sizes */
	stays(24, 32);
	stays(200, 129);
	stays(48, 40);
	from_another_thread();
	random_reallocs();
	printf("realloc_small: kept, moved through the cache both ways, across arenas; 200000 random reallocs intact\n");
	return 0;
}
