/* Bad input and edge behaviour of the core: NULL and double frees, zero and
 * overflowing sizes, sizes that cannot be served, realloc corner cases, a
 * program that moves the break itself (SPEC 31), brk failing (heap memory then
 * comes from mmap, SPEC 30), brk and mmap both failing (NULL + ENOMEM, the
 * old block of a failed realloc untouched, SPEC 22/26) and munmap refused as
 * at vm.max_map_count (no abort, errno unchanged, SPEC 29).
 *
 * The order matters: the foreign-break tests run first, on a fresh heap and
 * with sizes that are multiples of 16 only (SPEC 24); the brk/mmap failure
 * tests run last, since a refused brk is never retried. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "unit.h"

#define THRESH   OSMEM_THRESHOLD
#define FOREIGN  (4096 + 5)           /* an unaligned foreign move of the break */
#define MAXBLK   200000

static char *heap_lo;                 /* the break before the first os_* call */

static void *(*real_sbrk)(intptr_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static unsigned long sbrk_refused, mmap_refused;

/* brk refused as RLIMIT_DATA would refuse it: sbrk(0) still answers. */
static void *failing_sbrk(intptr_t delta)
{
	if (delta == 0)
		return real_sbrk(0);
	sbrk_refused++;
	errno = ENOMEM;
	return (void *)-1;
}

static int (*real_munmap)(void *, size_t);
static unsigned long munmap_refused;

/* munmap refused as the kernel refuses a split at vm.max_map_count. */
static int failing_munmap(void *addr, size_t len)
{
	(void)addr, (void)len;
	munmap_refused++;
	errno = ENOMEM;
	return -1;
}

static void *failing_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)addr, (void)len, (void)prot, (void)flags, (void)fd, (void)off;
	mmap_refused++;
	errno = ENOMEM;
	return MAP_FAILED;
}

/* ---- helpers ---- */

#define SAY(...) do { \
	char b_[512]; \
	diag_fmt(b_, sizeof b_, __VA_ARGS__); \
	(void)!write(1, b_, strlen(b_)); \
} while (0)

#define EXPECT_NOMEM(call) do { \
	void *r_; \
	errno = 0; \
	r_ = (call); \
	if (r_ != NULL || errno != ENOMEM) \
		diag_die("%s:%d: %s returned %p with errno %d; want NULL with ENOMEM (%d)\n", \
			 __FILE__, __LINE__, #call, r_, errno, ENOMEM); \
} while (0)

static unsigned char pat(uint64_t key, size_t i)
{
	uint64_t x = key * 0x9E3779B97F4A7C15ull + i * 0xD1342543DE82EF95ull;
	return (unsigned char)(x >> 56);
}

static void fill(void *p, size_t n, uint64_t key)
{
	unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		c[i] = pat(key, i);
}

#define VERIFY(p, n, key) verify_at(__FILE__, __LINE__, (p), (n), (key))
static void verify_at(const char *f, int line, const void *p, size_t n, uint64_t key)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != pat(key, i))
			diag_die("%s:%d: block %p (%zu bytes): byte %zu is %u, want %u\n", f, line, p, n, i,
				 (unsigned)c[i], (unsigned)pat(key, i));
}

static bool overlaps(const void *a, size_t alen, const void *b, size_t blen)
{
	const char *x = a, *y = b;
	return x < y + blen && y < x + alen;
}

/* The whole block, header included. */
static size_t span(const void *p) { return HDR + block_of((void *)p)->size; }

#define EXPECT_HEAP_BLOCK(p, n) expect_block_at(__FILE__, __LINE__, (p), (n), STATUS_ALLOC)
#define EXPECT_MAPPED_BLOCK(p, n) expect_block_at(__FILE__, __LINE__, (p), (n), STATUS_MAPPED)
static void expect_block_at(const char *f, int line, const void *p, size_t n, int status)
{
	struct block_meta *h;

	if (!p)
		diag_die("%s:%d: allocation of %zu bytes returned NULL\n", f, line, n);
	h = block_of((void *)p);
	if ((uintptr_t)p % 8 || h->status != status || h->size < ALIGN8(n))
		diag_die("%s:%d: block %p for %zu bytes: status %d size %zu; want status %d, size >= %zu, "
			 "8-aligned\n", f, line, p, n, h->status, h->size, status, ALIGN8(n));
}

/* ---- a program that moves the break itself (SPEC 31) ---- */

static struct {
	char *at[3];
} foreign;

static void foreign_move(int i)
{
	char *before = sbrk(0);

	foreign.at[i] = sbrk(FOREIGN);
	EXPECT(foreign.at[i] == before);
	EXPECT((char *)sbrk(0) == before + FOREIGN);
	fill(foreign.at[i], FOREIGN, 0xf0 + (uint64_t)i);
}

static void verify_foreign(void)
{
	for (int i = 0; i < 3; i++)
		if (foreign.at[i])
			VERIFY(foreign.at[i], FOREIGN, 0xf0 + (uint64_t)i);
}

/* No part of the block (header included) lies in a foreign region; the
 * pointer is 16-aligned (SPEC 24: every request in this part is a multiple of 16). */
static void expect_clear_of_foreign(const void *p)
{
	EXPECT((uintptr_t)p % 16 == 0);
	for (int i = 0; i < 3; i++)
		if (foreign.at[i] && overlaps(block_of((void *)p), span(p), foreign.at[i], FOREIGN))
			diag_die("test_edges: block %p (size %zu) overlaps the foreign region [%p, %p)\n",
				 p, block_of((void *)p)->size, (void *)foreign.at[i],
				 (void *)(foreign.at[i] + FOREIGN));
}

static void *fb[4096];
static size_t fb_n[4096];
static size_t nfb;

static void *foreign_alloc(size_t n)
{
	void *p = os_malloc(n);

	EXPECT_HEAP_BLOCK(p, n);
	expect_clear_of_foreign(p);
	EXPECT(block_end(block_of(p)) <= (char *)sbrk(0));
	fill(p, n, 1000 + nfb);
	EXPECT(nfb < 4096);
	fb[nfb] = p;
	fb_n[nfb++] = n;
	return p;
}

static void verify_foreign_blocks(void)
{
	for (size_t i = 0; i < nfb; i++) {
		if (!fb[i])
			continue;
		VERIFY(fb[i], fb_n[i], 1000 + i);
		EXPECT(block_of(fb[i])->status == STATUS_ALLOC);
		for (size_t j = i + 1; j < nfb; j++)
			if (fb[j] && overlaps(block_of(fb[i]), span(fb[i]), block_of(fb[j]), span(fb[j])))
				diag_die("test_edges: live blocks %p and %p overlap\n", fb[i], fb[j]);
	}
	verify_foreign();
}

static void test_foreign_break(void)
{
	char *brk1, *end;
	void *p, *d = NULL, *c;
	size_t i, d_i = 0;

	/* First heap use: the preallocation, the rest of it a FREE last block. */
	p = foreign_alloc(96);
	brk1 = sbrk(0);
	EXPECT(brk1 >= heap_lo + OSMEM_PREALLOC && brk1 < heap_lo + OSMEM_PREALLOC + 16);
	foreign_alloc(256);
	foreign_alloc(1024);
	CHECK_HEAP();

	/* A) the last block is FREE when the break moves; a request no free block
	 * fits must not stretch that block over the foreign region. */
	foreign_move(0);
	CHECK_HEAP();
	p = foreign_alloc(131024);       /* 131024 + 32 < THRESHOLD: a heap block */
	EXPECT((char *)block_of(p) >= foreign.at[0] + FOREIGN);   /* brk grew the heap past it */
	CHECK_HEAP();
	verify_foreign_blocks();

	/* B) the last block is ALLOC when the break moves; growing it by realloc
	 * must not run over the foreign region either. Take blocks until one ends
	 * at the break: that one is the last block. */
	for (i = 0; i < 400 && !d; i++) {
		p = foreign_alloc(2048);
		if (block_end(block_of(p)) == (char *)sbrk(0)) {
			d = p;
			d_i = nfb - 1;
		}
	}
	EXPECT(d != NULL);
	CHECK_HEAP();
	foreign_move(1);
	CHECK_HEAP();
	c = os_realloc(d, 8192);
	EXPECT_HEAP_BLOCK(c, 8192);
	expect_clear_of_foreign(c);
	VERIFY(c, 2048, 1000 + d_i);
	fill(c, 8192, 1000 + d_i);
	fb[d_i] = c;
	fb_n[d_i] = 8192;
	CHECK_HEAP();
	verify_foreign_blocks();

	/* C) many small blocks after another foreign move, until the heap has
	 * grown past it, then a few more; free half, take more, free all. */
	foreign_move(2);
	end = foreign.at[2] + FOREIGN;
	for (i = 0; i < 3000 && (char *)sbrk(0) <= end; i++)
		foreign_alloc(16 * (1 + (i * 7919) % 64));
	EXPECT((char *)sbrk(0) > end);
	for (i = 0; i < 50; i++)
		foreign_alloc(16 * (1 + (i * 104729) % 40));
	CHECK_HEAP();
	verify_foreign_blocks();
	for (i = 0; i < nfb; i += 2) {
		VERIFY(fb[i], fb_n[i], 1000 + i);
		os_free(fb[i]);
		fb[i] = NULL;
		CHECK_HEAP();
	}
	for (i = 0; i < 100; i++)
		foreign_alloc(16 * (1 + (i * 31) % 128));
	CHECK_HEAP();
	verify_foreign_blocks();
	for (i = 0; i < nfb; i++) {
		if (!fb[i])
			continue;
		VERIFY(fb[i], fb_n[i], 1000 + i);
		os_free(fb[i]);
		fb[i] = NULL;
	}
	CHECK_HEAP();
	verify_foreign();
	SAY("test_edges: foreign break moves: ok (%zu blocks, break %zu bytes above start)\n",
	    nfb, (size_t)((char *)sbrk(0) - heap_lo));
}

/* ---- bad input ---- */

static void test_bad_input(void)
{
	char *brk0 = sbrk(0);
	size_t mc = map_count();
	static const size_t huge[] = {
		SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - 31, SIZE_MAX - 39, (size_t)PTRDIFF_MAX + 1,
	};

	os_free(NULL);
	CHECK_HEAP();

	EXPECT(os_malloc(0) == NULL);
	EXPECT(os_calloc(0, 16) == NULL);
	EXPECT(os_calloc(16, 0) == NULL);
	EXPECT(os_calloc(0, 0) == NULL);
	EXPECT(os_calloc(0, SIZE_MAX) == NULL);
	EXPECT_NOMEM(os_calloc(SIZE_MAX / 2 + 1, 2));    /* the product wraps to 0 */
	EXPECT_NOMEM(os_calloc(2, SIZE_MAX / 2 + 1));
	EXPECT_NOMEM(os_calloc(SIZE_MAX, SIZE_MAX));
	EXPECT_NOMEM(os_calloc((size_t)1 << 32, ((size_t)1 << 32) + 1));
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		EXPECT_NOMEM(os_malloc(huge[i]));
		EXPECT_NOMEM(os_calloc(1, huge[i]));
		EXPECT_NOMEM(os_calloc(huge[i], 1));
		CHECK_HEAP();
	}
	/* Nothing was taken: no brk, no mapping left behind. */
	EXPECT((char *)sbrk(0) == brk0);
	EXPECT(map_count() == mc);
	CHECK_HEAP();
	SAY("test_edges: NULL, zero, overflowing and huge sizes: ok\n");
}

/* Neither physical neighbour of x is FREE, so freeing x cannot merge it away
 * (x->prev is its predecessor while x is ALLOC). */
static bool isolated(void *x)
{
	struct block_meta *h = block_of(x), *pred = h->prev, *succ = block_succ(h);

	return h->status == STATUS_ALLOC && (!pred || pred->status == STATUS_ALLOC) &&
	       (!succ || succ->status == STATUS_ALLOC);
}

static void *spare[8192];
static size_t nspare;

/* A heap block of n bytes with no FREE neighbour. Blocks that have one are
 * kept (they use up the free block they came from) until one does not. */
static void *isolated_block(size_t n)
{
	while (nspare < 8192) {
		void *x = os_malloc(n);

		EXPECT_HEAP_BLOCK(x, n);
		if (isolated(x))
			return x;
		spare[nspare++] = x;
	}
	diag_die("test_edges: no isolated block of %zu bytes after %zu tries\n", n, nspare);
}

static void test_realloc_edges(void)
{
	static const size_t huge[] = { SIZE_MAX, SIZE_MAX - 31, (size_t)PTRDIFF_MAX + 1 };
	void *x, *y1, *y2, *p, *g, *m, *r, *z;
	size_t mc, xs, ntries;

	/* Failing huge realloc: NULL, ENOMEM, the old block untouched (SPEC 22, 26). */
	p = os_malloc(200);
	g = os_malloc(64);
	m = os_malloc(300000);
	EXPECT_HEAP_BLOCK(p, 200);
	EXPECT_MAPPED_BLOCK(m, 300000);
	fill(p, 200, 1);
	fill(m, 300000, 2);
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
		size_t psz = block_of(p)->size;
		char *brk0 = sbrk(0);

		mc = map_count();
		EXPECT_NOMEM(os_realloc(p, huge[i]));
		EXPECT(block_of(p)->status == STATUS_ALLOC && block_of(p)->size == psz);
		VERIFY(p, 200, 1);
		EXPECT_NOMEM(os_realloc(m, huge[i]));
		EXPECT(block_of(m)->status == STATUS_MAPPED && block_of(m)->size == 300000);
		VERIFY(m, 300000, 2);
		EXPECT((char *)sbrk(0) == brk0);
		EXPECT(map_count() == mc);
		CHECK_HEAP();
	}
	os_free(m);
	CHECK_HEAP();

	/* A FREE block whose neighbours are ALLOC (so it is not merged away). */
	x = isolated_block(2456);  /* an odd size no other block here has */
	ntries = nspare + 1;
	xs = block_of(x)->size;
	EXPECT(xs >= 2456 && xs < 2456 + MIN_SPLIT);
	fill(x, 2456, 3);
	os_free(x);
	EXPECT(block_of(x)->status == STATUS_FREE && block_of(x)->size == xs);
	CHECK_HEAP();

	/* realloc of a FREE block: NULL, nothing else happens (SPEC 18). */
	{
		char *brk0 = sbrk(0);
		mc = map_count();
		EXPECT(os_realloc(x, 64) == NULL);
		EXPECT(os_realloc(x, 2456) == NULL);
		EXPECT(os_realloc(x, 100000) == NULL);
		EXPECT(os_realloc(x, 300000) == NULL);
		EXPECT(block_of(x)->status == STATUS_FREE && block_of(x)->size == xs);
		EXPECT((char *)sbrk(0) == brk0);
		EXPECT(map_count() == mc);
		CHECK_HEAP();
	}

	/* Double free of a heap block: no-op (SPEC 15); the block is then handed
	 * out once, not twice. */
	os_free(x);
	EXPECT(block_of(x)->status == STATUS_FREE && block_of(x)->size == xs);
	CHECK_HEAP();
	y1 = os_malloc(2456);
	y2 = os_malloc(2456);
	EXPECT(y1 == x);           /* best fit: the FREE block of (about) that size */
	EXPECT(y2 != x && y2 != NULL);
	EXPECT(!overlaps(block_of(y1), span(y1), block_of(y2), span(y2)));
	fill(y1, 2456, 4);
	fill(y2, 2456, 5);
	VERIFY(y1, 2456, 4);
	CHECK_HEAP();

	/* realloc(NULL, n) is malloc(n) (SPEC 16). */
	r = os_realloc(NULL, 300);
	EXPECT_HEAP_BLOCK(r, 300);
	fill(r, 300, 6);
	EXPECT(os_realloc(NULL, 0) == NULL);
	mc = map_count();
	m = os_realloc(NULL, 200000);
	EXPECT_MAPPED_BLOCK(m, 200000);
	EXPECT(map_count() == mc + 1);
	fill(m, 200000, 7);
	CHECK_HEAP();

	/* realloc(p, 0) frees p (SPEC 17): a heap block becomes FREE and is
	 * reused; a mapped one is unmapped. */
	z = isolated_block(2200);
	EXPECT(os_realloc(z, 0) == NULL);
	EXPECT(block_of(z)->status == STATUS_FREE);
	CHECK_HEAP();
	EXPECT(os_malloc(2200) == z);
	EXPECT(os_realloc(m, 0) == NULL);
	EXPECT(map_count() == mc);
	CHECK_HEAP();

	VERIFY(p, 200, 1);
	VERIFY(y2, 2456, 5);
	VERIFY(r, 300, 6);
	os_free(p);
	os_free(g);
	os_free(y1);
	os_free(y2);
	os_free(r);
	os_free(z);
	for (size_t i = 0; i < nspare; i++)
		os_free(spare[i]);
	CHECK_HEAP();
	SAY("test_edges: realloc edges, double free: ok (isolated a block after %zu tries)\n", ntries);
}

/* ---- brk refused: heap memory from mmap (SPEC 30); both refused: ENOMEM ---- */

static void *kept[MAXBLK];
static size_t nkept;

static void keep(void *p)
{
	EXPECT(nkept < MAXBLK);
	kept[nkept++] = p;
}

static bool in_brk_heap(const void *p)
{
	return (const char *)p >= heap_lo && (const char *)p < (char *)sbrk(0);
}

/* A mapped block whose munmap fails (os_free, and os_realloc moving it): the
 * call goes on, one munmap asked each time, errno unchanged; the block is no
 * longer listed (a second free of it is not taken for a live block), its
 * memory stays mapped (the test unmaps it for real afterwards). */
static void test_munmap_refused(void)
{
	void *m = os_malloc(200000), *g = os_malloc(150000), *r;
	size_t before;

	EXPECT_MAPPED_BLOCK(m, 200000);
	EXPECT_MAPPED_BLOCK(g, 150000);
	fill(m, 200000, 40);
	fill(g, 150000, 41);
	before = map_count();
	map_munmap_fn = failing_munmap;
	errno = EDOM;
	os_free(m);
	EXPECT(errno == EDOM);
	EXPECT(munmap_refused == 1);
	EXPECT(map_count() == before - 1);
	EXPECT(check_pointer(&arena_main, m) == PTR_FOREIGN);
	VERIFY(m, 200000, 40);             /* still mapped: nothing was unmapped */
	CHECK_HEAP();
	r = os_realloc(g, 300000);         /* rule 19: a new mapping, then the old one's munmap */
	EXPECT_MAPPED_BLOCK(r, 300000);
	EXPECT(munmap_refused == 2);
	EXPECT(map_count() == before - 1);
	VERIFY(r, 150000, 41);
	VERIFY(g, 150000, 41);
	CHECK_HEAP();
	map_munmap_fn = real_munmap;
	EXPECT(real_munmap(block_of(m), 200000 + HDR) == 0);
	EXPECT(real_munmap(block_of(g), 150000 + HDR) == 0);
	os_free(r);
	EXPECT(map_count() == before - 2);
	CHECK_HEAP();
	SAY("test_edges: munmap refused: the free goes on, errno kept, the block unlisted: ok\n");
}

static void test_brk_refused(void)
{
	void *q = NULL, *r, *p, *c, *found = NULL;
	char *brk0;
	size_t i, bound;

	/* A last heap block (its end is the break), grown by realloc while brk is
	 * refused: it must move, contents intact (SPEC 21, 30). */
	bound = (size_t)((char *)sbrk(0) - heap_lo) / (512 + HDR) + 16;
	for (i = 0; i < bound && !q; i++) {
		p = os_malloc(512);
		EXPECT_HEAP_BLOCK(p, 512);
		keep(p);
		if (block_end(block_of(p)) == (char *)sbrk(0))
			q = p;
	}
	EXPECT(q != NULL);
	nkept--;                   /* q is tracked below */
	fill(q, 512, 20);
	CHECK_HEAP();

	heap_sbrk_fn = failing_sbrk;
	brk0 = sbrk(0);
	r = os_realloc(q, 100000);
	EXPECT(sbrk_refused >= 1);  /* the last block tried to grow with brk */
	EXPECT_HEAP_BLOCK(r, 100000);
	VERIFY(r, 512, 20);
	fill(r, 100000, 21);
	keep(r);
	CHECK_HEAP();

	/* Heap requests until one lands outside [initial heap, break): a segment
	 * mmap'd for the heap; its blocks are ordinary heap blocks. */
	bound = (size_t)((char *)sbrk(0) - heap_lo) / 100000 + 4;
	for (i = 0; i < bound && !found; i++) {
		p = os_malloc(100000);
		EXPECT_HEAP_BLOCK(p, 100000);
		fill(p, 100000, 22);
		keep(p);
		if (!in_brk_heap(p))
			found = p;
		CHECK_HEAP();
	}
	EXPECT(found != NULL);
	EXPECT(heap_segment_of(&arena_main, block_of(found)) != NULL);
	c = os_calloc(1, 3000);           /* a heap calloc, zeroed */
	EXPECT_HEAP_BLOCK(c, 3000);
	for (i = 0; i < 3000; i++)
		EXPECT(((unsigned char *)c)[i] == 0);
	fill(c, 3000, 23);
	keep(c);
	p = os_malloc(60000);
	EXPECT_HEAP_BLOCK(p, 60000);
	fill(p, 60000, 24);
	p = os_realloc(p, 120000);
	EXPECT_HEAP_BLOCK(p, 120000);
	VERIFY(p, 60000, 24);
	keep(p);
	VERIFY(r, 100000, 21);
	VERIFY(found, 100000, 22);
	VERIFY(c, 3000, 23);
	EXPECT((char *)sbrk(0) == brk0);   /* the real break never moved */
	CHECK_HEAP();
	SAY("test_edges: brk refused (%lu refusals): heap blocks from mmap, e.g. %p: ok\n",
	    sbrk_refused, found);
}

static void test_all_refused(void)
{
	static const size_t fills[] = { 131000, 16384, 1024, 64, 8 };
	void *m, *h, *r, *p;
	size_t first_fill = nkept, hsz, i, j, n_fill = 0;

	m = os_malloc(300000);             /* mmap still works here */
	EXPECT_MAPPED_BLOCK(m, 300000);
	fill(m, 300000, 30);
	h = os_malloc(3000);
	EXPECT_HEAP_BLOCK(h, 3000);
	fill(h, 3000, 31);
	hsz = block_of(h)->size;
	CHECK_HEAP();

	map_mmap_fn = failing_mmap;
	EXPECT_NOMEM(os_malloc(200000));
	EXPECT_NOMEM(os_calloc(1, 200000));
	EXPECT_NOMEM(os_calloc(5000, 1));  /* SPEC 14: a page or more is mapped */
	EXPECT_NOMEM(os_realloc(m, 400000));
	EXPECT(mmap_refused >= 1);
	EXPECT(block_of(m)->status == STATUS_MAPPED && block_of(m)->size == 300000);
	VERIFY(m, 300000, 30);
	CHECK_HEAP();

	/* Use up every free heap block, largest requests first. */
	first_fill = nkept;
	for (i = 0; i < sizeof fills / sizeof fills[0]; i++) {
		for (;;) {
			errno = 0;
			p = os_malloc(fills[i]);
			if (!p) {
				EXPECT(errno == ENOMEM);
				break;
			}
			EXPECT_HEAP_BLOCK(p, fills[i]);
			((char *)p)[0] = 1;
			((char *)p)[fills[i] - 1] = 2;
			keep(p);
			n_fill++;
		}
		CHECK_HEAP();
	}
	EXPECT_NOMEM(os_malloc(1));
	EXPECT_NOMEM(os_calloc(1, 1));
	EXPECT_NOMEM(os_calloc(3, 8));
	EXPECT_NOMEM(os_realloc(NULL, 8));
	/* Growing h needs memory there is none of: NULL, h untouched. */
	EXPECT_NOMEM(os_realloc(h, 6000));
	EXPECT(block_of(h)->status == STATUS_ALLOC && block_of(h)->size == hsz);
	VERIFY(h, 3000, 31);
	/* A mapped block moving to the heap: no room either. */
	EXPECT_NOMEM(os_realloc(m, 1000));
	EXPECT(block_of(m)->status == STATUS_MAPPED && block_of(m)->size == 300000);
	VERIFY(m, 300000, 30);
	CHECK_HEAP();

	/* What needs no new memory still works: shrinking in place, and reuse. */
	r = os_realloc(h, 1000);
	EXPECT(r == h);
	VERIFY(h, 1000, 31);
	p = kept[first_fill];
	j = block_of(p)->size;
	os_free(p);
	CHECK_HEAP();
	r = os_malloc(j);
	EXPECT_HEAP_BLOCK(r, j);
	kept[first_fill] = r;
	CHECK_HEAP();

	/* Back to the real syscalls; everything is usable and can be freed. */
	heap_sbrk_fn = real_sbrk;
	map_mmap_fn = real_mmap;
	p = os_malloc(200000);
	EXPECT_MAPPED_BLOCK(p, 200000);
	fill(p, 200000, 32);
	keep(p);
	p = os_malloc(100);
	EXPECT_HEAP_BLOCK(p, 100);
	keep(p);
	os_free(m);
	os_free(h);
	for (i = 0; i < nkept; i++)
		os_free(kept[i]);
	nkept = 0;
	CHECK_HEAP();
	EXPECT(map_count() == 0);
	p = os_malloc(5000);
	EXPECT_HEAP_BLOCK(p, 5000);
	fill(p, 5000, 33);
	VERIFY(p, 5000, 33);
	os_free(p);
	CHECK_HEAP();
	SAY("test_edges: brk and mmap refused: NULL + ENOMEM after %zu fills, %lu mmap refusals: ok\n",
	    n_fill, mmap_refused);
}

/* check_block (issue 12): each kind of damage to a header, or to its
 * neighbours' links, is named by the full check (check_block_ends), and
 * refused by check_block, whose quick way trusts only a sealed block with a
 * sound predecessor link; undoing it makes the block trusted again. */
static void test_check_block(void)
{
	char *a = os_malloc(200), *b = os_malloc(200), *c = os_malloc(200);
	struct block_meta *ha = block_of(a), *hb = block_of(b), saved;
	const char *what;

	EXPECT(a && b && c && (char *)block_end(ha) == (char *)hb);
	EXPECT(!check_block(&arena_main, ha) && !check_block(&arena_main, hb));
#define DAMAGE(blk, field, value, want) do { \
		saved = *(blk); \
		(blk)->field = (value); \
		what = check_block_ends(&arena_main, hb, true); \
		EXPECT(what && strcmp(what, (want)) == 0); \
		EXPECT(check_block(&arena_main, hb) || (blk) != hb); \
		*(blk) = saved; \
		EXPECT(!check_block(&arena_main, hb)); \
	} while (0)
	DAMAGE(hb, size, hb->size + HDR + block_of(c)->size, "the block after it names another predecessor");
	DAMAGE(hb, size, 64, "its size does not end at a block");
	DAMAGE(hb, size, (size_t)1 << 40, "its size runs past the end of its segment");
	DAMAGE(hb, size, 203, "its size is not a positive multiple of 8");
	DAMAGE(hb, status, 7, "its status and tag disagree");
	DAMAGE(hb, prev, (struct block_meta *)c, "its predecessor link is damaged");
	DAMAGE(hb, prev, NULL, "its predecessor link is damaged");
	DAMAGE(block_of(c), prev, ha, "the block after it names another predecessor");
	/* That one is the block after's own to report, when it is checked. */
	block_of(c)->prev = ha;
	what = check_block(&arena_main, block_of(c));
	EXPECT(what && strcmp(what, "its predecessor link is damaged") == 0);
	block_of(c)->prev = hb;
	DAMAGE(ha, size, 64, "its predecessor link is damaged");
#undef DAMAGE
	/* Outside the heap: no segment holds it. */
	EXPECT(check_block(&arena_main, (struct block_meta *)&saved) != NULL);
	os_free(a);
	os_free(b);
	os_free(c);
	CHECK_HEAP();
	SAY("test_edges: check_block names 9 kinds of header damage: ok\n");
}

int main(void)
{
	heap_lo = sbrk(0);
	real_sbrk = heap_sbrk_fn;
	real_mmap = map_mmap_fn;
	real_munmap = map_munmap_fn;

	test_foreign_break();
	test_bad_input();
	test_realloc_edges();
	test_munmap_refused();
	test_brk_refused();
	test_all_refused();
	verify_foreign();
	heap_sbrk_fn = real_sbrk;
	map_mmap_fn = real_mmap;
	test_check_block();

	heap_sbrk_fn = real_sbrk;
	map_mmap_fn = real_mmap;
	SAY("test_edges: ok\n");
	return 0;
}
