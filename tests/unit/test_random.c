/* Deterministic randomized test of the core: a fixed-seed xorshift drives
 * os_malloc / os_calloc / os_realloc / os_free over up to NSLOTS live blocks.
 * Every live block carries a pattern derived from its key over its whole
 * requested size; the pattern is verified before every free and realloc and,
 * for all blocks, every VERIFY_EVERY ops. The heap checker runs after every op.
 * A heap block's pattern is verified again right after it is freed or moved
 * by os_realloc: freeing writes nothing into a payload (SPEC 15a).
 *
 *   test_random [ops [seed [lists]]]   defaults: 100000 ops, seed 0x0de1f00d
 *
 * With "lists", the index runs as the drop-in sets it up (the arena's lists flag: LIFO
 * lists for the smaller bins).
 *
 * No stdio and no malloc here: the core is linked statically next to glibc's
 * malloc, and anything that calls the latter could move the break. */
#include <errno.h>
#include <stdint.h>

#include "unit.h"

#define NSLOTS       2000
#define VERIFY_EVERY 1000
#define THRESH       OSMEM_THRESHOLD
#define MIB          (1UL << 20)

enum kind { K_MALLOC, K_CALLOC };

struct slot {
	unsigned char *p;   /* NULL when empty */
	size_t n;           /* requested size */
	uint64_t key;       /* pattern key of the current contents */
};

static struct slot slots[NSLOTS];
static uint64_t rng;
static uint64_t gen;
static unsigned long op_no;
static char *heap_lo;       /* the break before the first os_* call */
static size_t page;

static struct {
	unsigned long malloc_, calloc_, realloc_, free_, zero, mapped, inplace, moved, max_live, live;
} st;

/* ---- PRNG and patterns ---- */

static uint64_t rnd(void)
{
	uint64_t x = rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng = x;
}

static size_t below(size_t n) { return (size_t)(rnd() % n); }

static uint64_t new_key(size_t slot)
{
	uint64_t k = (++gen) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)slot << 48);
	return k | 1;
}

static inline uint64_t pat_word(uint64_t key, size_t j)
{
	uint64_t x = key + (uint64_t)j * 0xD1342543DE82EF95ull;
	return x ^ (x >> 31);
}

static void fill(unsigned char *p, size_t n, uint64_t key)
{
	uint64_t *q = (uint64_t *)p;   /* p is 8-aligned (checked before) */
	size_t w = n / 8, j;

	for (j = 0; j < w; j++)
		q[j] = pat_word(key, j);
	if (n % 8) {
		uint64_t x = pat_word(key, w);
		memcpy(p + 8 * w, &x, n % 8);
	}
}

/* Dies with the slot, the offset and the op number on the first wrong byte. */
static void verify(size_t slot, const unsigned char *p, size_t n, uint64_t key, const char *when)
{
	const uint64_t *q = (const uint64_t *)p;
	size_t w = n / 8, j;

	for (j = 0; j < w; j++)
		if (q[j] != pat_word(key, j))
			goto bad;
	if (n % 8) {
		uint64_t x = pat_word(key, w);
		if (memcmp(p + 8 * w, &x, n % 8) != 0)
			goto bad;
	}
	return;
bad:
	diag_die("test_random: op %lu: %s: slot %zu block %p (size %zu): pattern broken in word %zu\n",
		 op_no, when, slot, (void *)p, n, j);
}

static void verify_zero(size_t slot, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			diag_die("test_random: op %lu: calloc slot %zu block %p (size %zu): byte %zu is %u, not 0\n",
				 op_no, slot, (void *)p, n, i, (unsigned)p[i]);
}

/* ---- sizes ---- */

static size_t draw_size(void)
{
	size_t r = below(1000);

	if (r < 8)
		return 0;                                   /* 0.8%: zero */
	if (r < 780)
		return 1 + below(512);                      /* 77%: small */
	if (r < 910)
		return 513 + below(16 * 1024 - 512);        /* 13%: up to 16 KiB */
	if (r < 940)
		return page - 32 - 64 + below(128);         /* 3%: around calloc's page cut */
	if (r < 970)
		return THRESH - 32 - 64 + below(128);       /* 3%: around the mmap threshold */
	if (r < 995)
		return 65536 + below(200000);               /* 2.5%: either side of the threshold */
	return 1 + below(MIB);                              /* 0.5%: up to 1 MiB */
}

static size_t realloc_size(size_t old, bool old_mapped)
{
	size_t r = below(100);

	if (r < 3)
		return 0;
	if (r < 13) {                                       /* cross the threshold */
		if (old_mapped)
			return 1 + below(THRESH - 32);
		return THRESH - 32 + below(65536);
	}
	if (r < 38) {                                       /* near the old size */
		size_t d = below(64);
		if (below(2) || old <= d)
			return old + d + 1;
		return old - d;
	}
	if (r < 48)
		return old + 1 + below(4096);               /* grow a little */
	if (r < 60)
		return 1 + below(old);                      /* shrink */
	return draw_size();
}

/* ---- block checks ---- */

static bool expect_mapped(size_t n, enum kind k)
{
	size_t s = ALIGN8(n);
	return k == K_CALLOC ? s + HDR >= page : s + HDR >= THRESH;
}

/* A block just returned for a request of n bytes: alignment, header truth
 * (SPEC 1-3, 9, 12, 14), and where it lies. */
static void check_contents(size_t slot, const void *p, size_t n, enum kind k)
{
	struct block_meta *h = block_of((void *)p);
	size_t s = ALIGN8(n);
	char *brk_now = sbrk(0);
	bool in_heap = (const char *)h >= heap_lo && (const char *)p < brk_now;

	if ((uintptr_t)p % 8 != 0)
		diag_die("test_random: op %lu: slot %zu: %p (n %zu) is not 8-aligned\n", op_no, slot, p, n);
	if (expect_mapped(n, k)) {
		if (h->status != STATUS_MAPPED || h->size != s || in_heap)
			diag_die("test_random: op %lu: slot %zu: %p (n %zu, %s) should be MAPPED of size %zu; "
				 "header says status %d size %zu, in heap %d\n", op_no, slot, p, n,
				 k == K_CALLOC ? "calloc" : "malloc", s, h->status, h->size, (int)in_heap);
		st.mapped++;
	} else {
		if (h->status != STATUS_ALLOC || h->size < s || h->size - s >= MIN_SPLIT || !in_heap ||
		    block_end(h) > brk_now)
			diag_die("test_random: op %lu: slot %zu: %p (n %zu, %s) should be an ALLOC heap block "
				 "of size %zu..%zu inside [%p, %p); header says status %d size %zu\n", op_no, slot,
				 p, n, k == K_CALLOC ? "calloc" : "malloc", s, s + MIN_SPLIT - 8,
				 (void *)heap_lo, (void *)brk_now, h->status, h->size);
	}
}

/* A live block, between operations: header unchanged in kind and size range. */
static void check_live(size_t slot)
{
	struct block_meta *h = block_of(slots[slot].p);
	size_t s = ALIGN8(slots[slot].n);

	if (!(h->status == STATUS_ALLOC || h->status == STATUS_MAPPED) || h->size < s)
		diag_die("test_random: op %lu: live slot %zu block %p (n %zu): header status %d size %zu\n",
			 op_no, slot, (void *)slots[slot].p, slots[slot].n, h->status, h->size);
}

static void verify_all(void)
{
	size_t i;

	for (i = 0; i < NSLOTS; i++) {
		if (!slots[i].p)
			continue;
		check_live(i);
		verify(i, slots[i].p, slots[i].n, slots[i].key, "periodic verify");
	}
}

/* ---- operations ---- */

static void set_live(size_t i, unsigned char *p, size_t n)
{
	slots[i].p = p;
	slots[i].n = n;
	slots[i].key = new_key(i);
	fill(p, n, slots[i].key);
}

static void op_alloc(size_t i)
{
	size_t n = draw_size();
	unsigned char *p;

	if (below(5) == 0) {                                /* calloc */
		size_t nmemb = n, size = 1;
		static const size_t units[] = { 1, 2, 4, 8, 16, 24, 40 };
		size_t u = units[below(sizeof units / sizeof units[0])];

		if (n % u == 0 && n != 0) {
			nmemb = n / u;
			size = u;
		}
		if (below(2)) {
			size_t t = nmemb;
			nmemb = size;
			size = t;
		}
		st.calloc_++;
		p = os_calloc(nmemb, size);
		if (n == 0) {
			st.zero++;
			if (p != NULL)
				diag_die("test_random: op %lu: os_calloc(%zu, %zu) returned %p, not NULL\n",
					 op_no, nmemb, size, (void *)p);
			return;
		}
		if (!p)
			diag_die("test_random: op %lu: os_calloc(%zu, %zu) returned NULL\n", op_no, nmemb, size);
		check_contents(i, p, n, K_CALLOC);
		verify_zero(i, p, n);
	} else {
		st.malloc_++;
		p = os_malloc(n);
		if (n == 0) {
			st.zero++;
			if (p != NULL)
				diag_die("test_random: op %lu: os_malloc(0) returned %p, not NULL\n", op_no, (void *)p);
			return;
		}
		if (!p)
			diag_die("test_random: op %lu: os_malloc(%zu) returned NULL\n", op_no, n);
		check_contents(i, p, n, K_MALLOC);
	}
	set_live(i, p, n);
	if (++st.live > st.max_live)
		st.max_live = st.live;
}

static void op_free(size_t i)
{
	bool heap = block_of(slots[i].p)->status == STATUS_ALLOC;

	check_live(i);
	verify(i, slots[i].p, slots[i].n, slots[i].key, "before os_free");
	os_free(slots[i].p);
	if (heap)
		verify(i, slots[i].p, slots[i].n, slots[i].key, "after os_free (SPEC 15a)");
	slots[i].p = NULL;
	st.free_++;
	st.live--;
}

static void op_realloc(size_t i)
{
	struct slot old = slots[i];
	struct block_meta *h = block_of(old.p);
	bool old_mapped = h->status == STATUS_MAPPED;
	size_t old_size = h->size;
	size_t n = realloc_size(old.n, old_mapped);
	size_t s = ALIGN8(n);
	unsigned char *q;

	check_live(i);
	verify(i, old.p, old.n, old.key, "before os_realloc");
	st.realloc_++;
	q = os_realloc(old.p, n);
	if (n == 0) {                                       /* SPEC 17: frees, NULL */
		if (q != NULL)
			diag_die("test_random: op %lu: os_realloc(%p, 0) returned %p, not NULL\n",
				 op_no, (void *)old.p, (void *)q);
		slots[i].p = NULL;
		st.zero++;
		st.live--;
		return;
	}
	if (!q)
		diag_die("test_random: op %lu: os_realloc(%p, %zu) returned NULL (old n %zu)\n",
			 op_no, (void *)old.p, n, old.n);
	check_contents(i, q, n, K_MALLOC);
	/* SPEC 19: mapped blocks and requests over the threshold always move;
	 * SPEC 20: a heap block shrinks in place. */
	if (old_mapped || s + HDR >= THRESH) {
		if (q == old.p)
			diag_die("test_random: op %lu: os_realloc(%p, %zu) stayed in place; old block %s size %zu "
				 "must move (SPEC 19)\n", op_no, (void *)old.p, n,
				 old_mapped ? "MAPPED" : "heap", old_size);
	} else if (s <= old_size && q != old.p) {
		diag_die("test_random: op %lu: os_realloc(%p, %zu) moved to %p; a heap block of size %zu "
			 "shrinks in place (SPEC 20)\n", op_no, (void *)old.p, n, (void *)q, old_size);
	}
	if (q == old.p)
		st.inplace++;
	else
		st.moved++;
	if (q != old.p && !old_mapped)
		verify(i, old.p, old.n, old.key, "old block after a moving os_realloc (SPEC 15a)");
	verify(i, q, old.n < n ? old.n : n, old.key, "after os_realloc (kept bytes)");
	set_live(i, q, n);
}

int main(int argc, char **argv)
{
	unsigned long ops = 100000, seed = 0x0de1f00d, i;
	char buf[512];

	if (argc > 1)
		ops = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		seed = strtoul(argv[2], NULL, 0);
	arena_main.idx.lists = argc > 3 && strcmp(argv[3], "lists") == 0;
	rng = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	if (rng == 0)
		rng = 1;
	page = (size_t)getpagesize();
	heap_lo = sbrk(0);

	CHECK_HEAP();
	for (op_no = 1; op_no <= ops; op_no++) {
		size_t slot = below(NSLOTS);

		if (!slots[slot].p)
			op_alloc(slot);
		else if (below(100) < 45)
			op_free(slot);
		else
			op_realloc(slot);
		CHECK_HEAP();
		if (op_no % VERIFY_EVERY == 0)
			verify_all();
	}
	verify_all();

	for (i = 0; i < NSLOTS; i++)
		if (slots[i].p)
			op_free(i);
	CHECK_HEAP();
	EXPECT(st.live == 0);
	EXPECT(map_count() == 0);   /* every MAPPED block was unmapped */

	diag_fmt(buf, sizeof buf,
		 "test_random: ok: %lu ops, seed %lu: %lu malloc, %lu calloc, %lu realloc (%lu in place, "
		 "%lu moved), %lu free, %lu zero-size, %lu mapped, max live %lu\n",
		 ops, seed, st.malloc_, st.calloc_, st.realloc_, st.inplace, st.moved, st.free_, st.zero,
		 st.mapped, st.max_live);
	(void)!write(1, buf, strlen(buf));
	return 0;
}
