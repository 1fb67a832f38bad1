/* The slab layer (src/slab.c) against the heap it lives in: a fixed-seed
 * random mix of slab objects of every class and ordinary heap blocks, each
 * filled with a pattern that is verified before it is freed; the heap checker
 * (which checks every slab) runs after every operation. Then the edges: how a
 * pointer is classified, what a released slab leaves behind (a hole the next
 * slab reuses), and the spare slab a class keeps.
 *
 *   test_slab [ops]      default: 60000
 *
 * No stdio and no malloc: the core is linked next to glibc's malloc. */
#include <stdint.h>

#include "unit.h"

#define NSLOTS 3000

struct slot {
	unsigned char *p;
	size_t n;          /* bytes asked for */
	bool slab;         /* a slab object, or a heap block from os_malloc */
	unsigned char key;
};

static struct slot slots[NSLOTS];
static uint64_t rng = 0x5eed5eed12345678ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void fill(struct slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->p[i] = (unsigned char)(s->key + i * 7);
}

static void verify(const struct slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] != (unsigned char)(s->key + i * 7))
			diag_die("test_slab: block %p (%zu bytes) damaged at byte %zu\n", (void *)s->p, s->n, i);
}

static size_t slab_count(void)
{
	struct heap_usage u;

	memset(&u, 0, sizeof u);
	stats_usage(&arena_main, &u);
	return u.slabs;
}

static void drop(struct slot *s)
{
	verify(s);
	if (s->slab) {
		struct slab *sl = slab_of(s->p);
		EXPECT(sl && slab_object(sl, s->p) == SLAB_OBJ_LIVE);
		slab_free(&arena_main, sl, s->p);
		/* Freed: the page may be gone back to the core; if not, the bit says so. */
		if (slab_of(s->p) == sl)
			EXPECT(slab_object(sl, s->p) == SLAB_OBJ_FREE);
	} else {
		os_free(s->p);
	}
	s->p = NULL;
}

static void random_ops(unsigned long ops)
{
	for (unsigned long op = 0; op < ops; op++) {
		struct slot *s = &slots[rnd() % NSLOTS];

		if (s->p) {
			drop(s);
		} else {
			s->slab = rnd() % 4 != 0;
			s->key = (unsigned char)rnd();
			if (s->slab) {
				size_t r = 16 * (1 + rnd() % SLAB_CLASSES);
				s->n = r - rnd() % 16;
				s->p = slab_alloc(&arena_main, r);
				EXPECT(s->p && (uintptr_t)s->p % 16 == 0);
				EXPECT(slab_of(s->p) && slab_of(s->p)->size == r);
				EXPECT(slab_object(slab_of(s->p), s->p) == SLAB_OBJ_LIVE);
			} else {
				s->n = 1 + rnd() % 3000;
				s->p = os_malloc(s->n);
				EXPECT(s->p && !slab_of(s->p));
			}
			fill(s);
		}
		CHECK_HEAP();
	}
}

/* How pointers in and around a slab are classified. */
static void edges(void)
{
	unsigned char *a = slab_alloc(&arena_main, 32), *b = slab_alloc(&arena_main, 32);
	struct slab *s = slab_of(a);
	char *page = (char *)s;

	EXPECT(s && slab_of(b) == s && b == a + 32);
	EXPECT((uintptr_t)page % SLAB_PAGE == 0 && a >= (unsigned char *)page + SLAB_HDR);
	EXPECT(slab_object(s, a + 16) == SLAB_OBJ_BAD);                 /* inside an object */
	EXPECT(slab_object(s, page + 8) == SLAB_OBJ_BAD);               /* inside the slab header */
	EXPECT(slab_object(s, page + SLAB_HDR + 32 * s->cap) == SLAB_OBJ_BAD);   /* past the last object */
	EXPECT(!slab_of(page));                                          /* the slab's own payload */
	EXPECT(check_pointer(&arena_main, page) == PTR_FOREIGN);                      /* ... is no block to free */
	EXPECT(slab_object(s, b) == SLAB_OBJ_LIVE);
	slab_free(&arena_main, s, b);
	EXPECT(slab_object(s, b) == SLAB_OBJ_FREE);
	slab_free(&arena_main, s, a);
	CHECK_HEAP();
}

/* Every byte of a slab of each class: an object's own address is one,
 * live; any other (its header, inside an object, the tail past the last
 * object, a byte off) is none (slab_index). */
static void every_offset(void)
{
	for (size_t size = 16; size <= SLAB_MAX; size += 16) {
		unsigned char *a = slab_alloc(&arena_main, size);
		struct slab *s = slab_of(a);
		unsigned char *page = (unsigned char *)s;
		unsigned objects = 0;

		EXPECT(s && s->size == size);
		for (size_t off = 0; off < SLAB_PAGE; off++) {
			bool start = off >= SLAB_HDR && (off - SLAB_HDR) % size == 0 && (off - SLAB_HDR) / size < s->cap;
			enum slab_obj o = slab_object(s, page + off);

			EXPECT(start ? o != SLAB_OBJ_BAD : o == SLAB_OBJ_BAD);
			objects += start;
		}
		EXPECT(objects == s->cap && (size_t)s->cap * size <= SLAB_BYTES - SLAB_HDR);
		slab_free(&arena_main, s, a);
	}
	slab_trim(&arena_main);
	CHECK_HEAP();
}

/* A class keeps one empty slab while it has no other; the others go back to
 * the core as they empty, their check words wiped, but for those made ahead
 * of their use (slab_new) and never used; slab_trim gives back the rest.
 * Run before anything else holds a slab of this class. */
static void spare_and_release(void)
{
	enum { N = 600 };
	static unsigned char *p[N];
	size_t before = slab_count(), cap, made;
	struct slab *spare;

	for (int i = 0; i < N; i++)
		EXPECT((p[i] = slab_alloc(&arena_main, 144)) != NULL);
	cap = slab_of(p[0])->cap;
	made = slab_count() - before;
	EXPECT(made >= (N + cap - 1) / cap && made <= (N + cap - 1) / cap + SLAB_AHEAD);
	EXPECT(arena_main.slabs[144 / 16 - 1] == made);
	for (int i = 0; i < N; i++) {
		slab_free(&arena_main, slab_of(p[i]), p[i]);
		CHECK_HEAP();
	}
	/* Left: the last to empty if no other was beside it, else those made
	 * ahead and never used. */
	EXPECT(slab_count() - before == (made > (N + cap - 1) / cap ? made - (N + cap - 1) / cap : 1));
	for (int i = 0; i < N; i++)
		EXPECT(slab_of(p[i]) == NULL || (slab_of(p[i])->nfree == cap && made == (N + cap - 1) / cap));
	slab_trim(&arena_main);
	CHECK_HEAP();
	EXPECT(slab_count() == before && arena_main.slabs[144 / 16 - 1] == 0);

	/* A spare filled, then a second slab filled; the spare emptied again
	 * (kept: alone on the list). When the full one gets an object back it
	 * joins the list, and the spare, no longer alone, goes back. */
	for (size_t i = 0; i < 2 * cap; i++)
		EXPECT((p[i] = slab_alloc(&arena_main, 144)) != NULL);
	spare = slab_of(p[0]);
	EXPECT(slab_count() == before + 2 && slab_of(p[cap]) != spare);
	for (size_t i = 0; i < cap; i++)
		slab_free(&arena_main, spare, p[i]);
	CHECK_HEAP();
	EXPECT(slab_count() == before + 2);
	slab_free(&arena_main, slab_of(p[cap]), p[cap]);
	CHECK_HEAP();
	EXPECT(slab_count() == before + 1 && slab_of(p[0]) == NULL);
	for (size_t i = cap + 1; i < 2 * cap; i++)
		slab_free(&arena_main, slab_of(p[i]), p[i]);
	slab_trim(&arena_main);
	CHECK_HEAP();
	EXPECT(slab_count() == 0);
	for (int i = 0; i < N; i++)
		EXPECT(slab_of(p[i]) == NULL);
}

/* Slabs given back between live heap blocks leave page-sized holes; the next
 * slabs go into those holes (or are the ones made ahead that were never used
 * and are still on the list) instead of growing the heap. */
static void holes_reused(void)
{
	enum { K = 8, MAXCAP = 64 };
	static unsigned char *obj[K][MAXCAP];
	struct slab *page[K + SLAB_AHEAD + 1];
	void *sep[K];
	size_t cap = 0;
	int pages = K;

	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < K; k++) {
			for (size_t j = 0; j < MAXCAP; j++) {
				obj[k][j] = slab_alloc(&arena_main, 112);
				EXPECT(obj[k][j] != NULL);
				cap = slab_of(obj[k][0])->cap;
				if (j + 1 == cap)
					break;
			}
			if (round == 0) {
				page[k] = slab_of(obj[k][0]);
				/* A page-sized block after each slab: the next slab is
				 * aligned as it comes, and slabs given back leave holes
				 * of exactly a slab between live blocks. */
				EXPECT((sep[k] = os_malloc(SLAB_BYTES)) != NULL);
			} else {
				bool old = false;
				for (int i = 0; i < pages; i++)
					old |= slab_of(obj[k][0]) == page[i];
				EXPECT(old);
			}
		}
		CHECK_HEAP();
		/* Those made ahead, never used: on the list, empty. */
		for (struct slab *s = arena_main.partial[112 / 16 - 1]; s && round == 0; s = s->next)
			if (pages < K + SLAB_AHEAD + 1)
				page[pages++] = s;
		for (int k = 0; k < K; k++)
			for (size_t j = 0; j < cap; j++)
				slab_free(&arena_main, slab_of(obj[k][j]), obj[k][j]);
		CHECK_HEAP();
	}
	for (int k = 0; k < K; k++)
		os_free(sep[k]);
	slab_trim(&arena_main);
	CHECK_HEAP();
}

/* Free bytes in the heap's blocks from b up to the one at `to`. */
static size_t holes_between(struct block_meta *b, const void *to)
{
	size_t n = 0;

	for (; b && (const char *)b < (const char *)to; b = block_succ(b))
		n += b->status == STATUS_FREE ? b->size : 0;
	return n;
}

/* A heap block after each slab's worth of small objects (perl's arenas of
 * 4080 bytes): the next slab needs a page of its own, and the page boundary
 * after such a block leaves a hole of nearly a page in front of it that
 * those blocks do not fit. A class with 8 slabs or more makes up to
 * SLAB_AHEAD more with its next one (one for every 8 it has), tiled after
 * it where the heap has room (the break's growth), the lowest used first:
 * the holes come once a batch. With room at the top as the drop-in's
 * growth leaves it; each object and block written and read back. */
static void slabs_ahead(void)
{
	enum { ROUNDS = 96, MAXCAP = 128 };
	static unsigned char *obj[ROUNDS][MAXCAP], *blk[ROUNDS];
	size_t cap = 0, made, holes, pad = arena_main.grow_pad;
	unsigned before = arena_main.slabs[48 / 16 - 1];

	arena_main.grow_pad = OSMEM_GROW_PAD;
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t j = 0; j == 0 || j < cap; j++) {
			EXPECT((obj[r][j] = slab_alloc(&arena_main, 48)) != NULL);
			memset(obj[r][j], r, 48);
			cap = slab_of(obj[r][0])->cap;
		}
		/* Used in address order: the lowest of a batch first. */
		EXPECT(r == 0 || slab_of(obj[r][0]) != slab_of(obj[r - 1][0]));
		EXPECT((blk[r] = os_malloc(4080)) != NULL);
		memset(blk[r], r, 4080);
		CHECK_HEAP();
	}
	made = arena_main.slabs[48 / 16 - 1] - before;
	holes = holes_between(slab_block(slab_of(obj[0][0])), blk[ROUNDS - 1]);
	unit_say("test_slab: 96 slabs' worth of 48-byte objects, a 4080-byte block after each: %lu slabs, "
		 "%lu bytes of holes between them\n", made, holes);
	EXPECT(made >= ROUNDS && made <= ROUNDS + SLAB_AHEAD);
	/* One slab at a time: a hole of nearly a page each (96 x 4080 bytes);
	 * in batches that grow to 8 slabs, 26 holes. */
	EXPECT(holes < (size_t)ROUNDS * SLAB_PAGE / 3);
	/* A batch's lowest slab holds the first objects, the next the next. */
	for (int r = 1; r < ROUNDS; r++)
		EXPECT((char *)slab_of(obj[r][0]) == (char *)slab_of(obj[r - 1][0]) + SLAB_PAGE ||
		       (char *)slab_of(obj[r][0]) > (char *)blk[r - 1]);
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t j = 0; j < cap; j++) {
			EXPECT(obj[r][j][0] == r && obj[r][j][47] == r);
			slab_free(&arena_main, slab_of(obj[r][j]), obj[r][j]);
		}
		EXPECT(blk[r][0] == r && blk[r][4079] == r);
		os_free(blk[r]);
	}
	CHECK_HEAP();
	slab_trim(&arena_main);
	CHECK_HEAP();
	EXPECT(arena_main.slabs[48 / 16 - 1] == before);
	arena_main.grow_pad = pad;
}

/* slab_alloc_more takes from the first slab with room only, each object
 * once, and slab_free_many gives a run back while the objects are the
 * arena's (it stops at the first that is not a slab of it): the counts, the
 * bitmaps and the lists stay what the checker expects after each. */
static void batches(void)
{
	enum { N = 40 };
	void *v[N], *more[N];
	struct slab *s;
	unsigned got, cap, k;
	void *heap;

	EXPECT((v[0] = slab_alloc(&arena_main, 64)) != NULL);
	s = slab_of(v[0]);
	cap = s->cap;
	got = slab_alloc_more(&arena_main, 64, v + 1, N - 1);
	CHECK_HEAP();
	EXPECT(got == N - 1 && s->nfree == cap - N);
	for (unsigned i = 0; i < N; i++) {
		EXPECT(slab_of(v[i]) == s && slab_object(s, v[i]) == SLAB_OBJ_LIVE);
		for (unsigned j = 0; j < i; j++)
			EXPECT(v[i] != v[j]);
		memset(v[i], 0xa5, 64);
	}
	/* The rest of the slab, and no more: its first slab only. */
	got = slab_alloc_more(&arena_main, 64, more, N);
	EXPECT(got == (cap - N < N ? cap - N : N));
	CHECK_HEAP();
	EXPECT(slab_free_many(&arena_main, more, got) == got);
	CHECK_HEAP();
	/* A run that meets a heap block stops there. */
	EXPECT((heap = os_malloc(300)) != NULL);
	more[0] = v[N - 1];
	more[1] = heap;
	k = slab_free_many(&arena_main, more, 2);
	EXPECT(k == 1 && slab_object(s, v[N - 1]) == SLAB_OBJ_FREE);
	os_free(heap);
	CHECK_HEAP();
	EXPECT(slab_free_many(&arena_main, v, N - 1) == N - 1);
	CHECK_HEAP();
	EXPECT(slab_alloc_more(&arena_main, 64, more, 0) == 0);
	slab_trim(&arena_main);
	CHECK_HEAP();
}

int main(int argc, char **argv)
{
	unsigned long ops = argc > 1 ? strtoul(argv[1], NULL, 10) : 60000;

	arena_main.idx.lists = true;   /* the index as the drop-in sets it up */
	slab_init();
	spare_and_release();
	holes_reused();
	slabs_ahead();
	batches();
	edges();
	every_offset();
	random_ops(ops);
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].p)
			drop(&slots[i]);
	slab_trim(&arena_main);
	CHECK_HEAP();
	EXPECT(slab_count() == 0);
	unit_say("test_slab: %lu operations, heap checked after each; %lu slabs left\n", ops, slab_count());
	return 0;
}
