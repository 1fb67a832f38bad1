/* Scenario 2 (SPEC rule 24): every pointer is 16-byte aligned, from malloc,
 * calloc, realloc (grow, shrink, from NULL), reallocarray and the memalign
 * family (aligned to their own alignment as well), for sizes 0..~300000,
 * densely around the mmap threshold (131040..131072 and a little beyond).
 * A ring of live blocks keeps the heap fragmented so that reused and split
 * blocks are tested too, not only fresh ones. */
#include "scenario.h"

#define RING 61

static void *ring[RING];
static size_t ring_n[RING];
static uint64_t rs = 0x1234567;

static void check(void *p, size_t n, const char *what, size_t align)
{
	if (!p)
		FAIL("%s(%zu) returned NULL (errno %d)", what, n, errno);
	if (!aligned_to(p, 16))
		FAIL("%s(%zu) returned %p: not 16-aligned", what, n, p);
	if (align > 16 && !aligned_to(p, align))
		FAIL("%s(%zu) returned %p: not %zu-aligned", what, n, p, align);
	if (malloc_usable_size(p) < n)
		FAIL("%s(%zu): malloc_usable_size %zu is too small", what, n,
		     malloc_usable_size(p));
}

static void one_size(size_t n)
{
	size_t page = (size_t)getpagesize();
	size_t al = (size_t)32 << (n % 4);     /* 32, 64, 128, 256 */
	void *p, *q;
	unsigned k;

	p = malloc(opaque(n)); check(p, n, "malloc", 16);
	if (n) memset(p, 0x11, n);
	free(p);

	p = calloc(opaque(n), 1); check(p, n, "calloc(n,1)", 16);
	CHECK(all_zero(p, n), "calloc(%zu, 1) is not zeroed", n);
	free(p);
	if (n % 16 == 0 && n) {
		p = calloc(n / 16, opaque(16)); check(p, n, "calloc(n/16,16)", 16);
		free(p);
	}

	p = realloc(NULL, opaque(n)); check(p, n, "realloc(NULL)", 16);
	free(p);

	p = reallocarray(NULL, opaque(n), 1); check(p, n, "reallocarray(NULL,n,1)", 16);
	free(p);

	/* realloc of a live block of the ring to n: grow or shrink, maybe move. */
	k = (unsigned)(rng_next(&rs) % RING);
	if (n) {
		q = realloc(ring[k], opaque(n));
		check(q, n, "realloc(ring)", 16);
		ring[k] = q;
		ring_n[k] = n;
		memset(q, 0x22, n);
	}
	k = (unsigned)(rng_next(&rs) % RING);
	q = reallocarray(ring[k], opaque(n ? n : 1), 1);
	check(q, n ? n : 1, "reallocarray(ring)", 16);
	ring[k] = q;
	ring_n[k] = n ? n : 1;

	p = memalign(al, opaque(n)); check(p, n, "memalign", al);
	free(p);
	p = aligned_alloc(al, opaque(n)); check(p, n, "aligned_alloc", al);
	free(p);
	p = NULL;
	CHECK(posix_memalign(&p, al, opaque(n)) == 0, "posix_memalign(%zu, %zu) failed", al, n);
	check(p, n, "posix_memalign", al);
	free(p);
	p = memalign(16, opaque(n)); check(p, n, "memalign(16)", 16);
	free(p);
	p = aligned_alloc(8, opaque(n)); check(p, n, "aligned_alloc(8)", 16);
	free(p);
	if (n % 7 == 0) {   /* page-sized alignments cost more: a sample */
		p = valloc(opaque(n)); check(p, n, "valloc", page);
		free(p);
		p = pvalloc(opaque(n)); check(p, n, "pvalloc", page);
		free(p);
	}
}

int main(void)
{
	size_t n;
	unsigned k;

	require_osmem("align16");

	for (k = 0; k < RING; k++) {
		ring_n[k] = (size_t)(rng_next(&rs) % 3000) + 1;
		ring[k] = malloc(ring_n[k]);
		check(ring[k], ring_n[k], "malloc(ring)", 16);
	}
	for (n = 0; n <= 4200; n++)
		one_size(n);
	for (n = 4201; n <= 300000; n += 97)
		one_size(n);
	for (n = 130900; n <= 131200; n++)   /* both sides of the mmap threshold */
		one_size(n);
	for (n = 262100; n <= 262200; n++)
		one_size(n);
	one_size(300000);
	for (k = 0; k < RING; k++)
		free(ring[k]);
	return 0;
}
