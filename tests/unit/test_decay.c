/* heap_decay (src/heap.c) and the flags it leaves in free blocks' headers
 * (src/index.c), on arena_main's heap through os_malloc and os_free:
 *   - a first pass only marks (BLOCK_AGED), a second purges what stayed
 *     free (BLOCK_CLEAN; the pages read zero again and are not resident),
 *     a third finds nothing to do;
 *   - a block split off a purged block keeps its flags (the pages are the
 *     same), a block freed into a large purged one leaves it clean, and
 *     a free block taken and given back is new again;
 *   - blocks smaller than min are left alone;
 *   - a free run between slabs that a live object each keeps becomes the
 *     front of the slab after it (slab_take_front): every page of the run
 *     goes, the one that held that slab's header too; the slab works on,
 *     and when it empties the whole block is free again; a front goes
 *     back to the index before the heap would grow, and when its slab
 *     fills up;
 * with the heap checker after every step. No stdio and no malloc. */
#include <sys/mman.h>

#include "unit.h"

static uint32_t flags_of(void *p)
{
	return *block_tag(block_of(p)) & (BLOCK_AGED | BLOCK_CLEAN);
}

/* Pages of [p, p + n) that are resident. */
static size_t resident_pages(void *p, size_t n)
{
	size_t page = (size_t)getpagesize(), count = 0;
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1), hi = ((uintptr_t)p + n) & ~(page - 1);
	unsigned char vec[1024];

	EXPECT(hi > lo && (hi - lo) / page <= sizeof vec);
	EXPECT(mincore((void *)lo, hi - lo, vec) == 0);
	for (size_t i = 0; i < (hi - lo) / page; i++)
		count += vec[i] & 1;
	return count;
}

/* Slabs of 48-byte objects, every 12th (the last too) kept by one live
 * object, as 1 in 1000 kept leaves them. */
#define FRONT_SLABS 37
#define FRONT_EVERY 12

static void fronts(void)
{
	static char *obj[FRONT_SLABS][SLAB_PAGE / 48], *more[FRONT_SLABS / FRONT_EVERY + 1][SLAB_PAGE / 48];
	void *room[2];
	char *top, *reuse;
	struct slab *s[FRONT_SLABS];
	struct block_meta *run[FRONT_SLABS];
	struct heap_usage u;
	size_t left, purged, cap = 0, before;

	/* Room at the top first, where the slabs tile. */
	room[0] = os_malloc(120 * 1024);
	room[1] = os_malloc(120 * 1024);
	EXPECT(room[0] && room[1]);
	os_free(room[0]);
	os_free(room[1]);
	memset(&u, 0, sizeof u);
	stats_usage(&arena_main, &u);
	before = u.in_use_bytes;
	for (int k = 0; k < FRONT_SLABS; k++) {
		for (size_t j = 0; j == 0 || j < cap; j++) {
			EXPECT((obj[k][j] = slab_alloc(&arena_main, 48)) != NULL);
			memset(obj[k][j], k, 48);
			cap = slab_of(obj[k][0])->cap;
		}
		s[k] = slab_of(obj[k][0]);
		EXPECT(slab_block(s[k]) == block_of(s[k]));
		EXPECT(k == 0 || (char *)s[k] == (char *)s[k - 1] + SLAB_PAGE);   /* tiled */
	}
	/* All but the first object of every 12th slab, the last included. */
	for (int k = 0; k < FRONT_SLABS; k++)
		for (size_t j = k % FRONT_EVERY ? 0 : 1; j < cap; j++)
			slab_free(&arena_main, s[k], obj[k][j]);
	CHECK_HEAP();
	for (int k = FRONT_EVERY; k < FRONT_SLABS; k += FRONT_EVERY) {
		run[k] = block_of(s[k - FRONT_EVERY + 1]);   /* the emptied slabs merged into one free block */
		EXPECT(run[k]->status == STATUS_FREE && block_succ(run[k]) == block_of(s[k]));
		memset(block_payload(run[k]), 1, run[k]->size);
	}
	/* Marked, then given back: the runs become their slabs' fronts. */
	heap_decay(&arena_main, 16 * 1024, &left);
	CHECK_HEAP();
	EXPECT(left >= 3 && slab_block(s[FRONT_EVERY]) == block_of(s[FRONT_EVERY]));
	purged = heap_decay(&arena_main, 16 * 1024, &left);
	CHECK_HEAP();
	EXPECT(purged >= 3 * (FRONT_EVERY - 1) * SLAB_PAGE);
	for (int k = FRONT_EVERY; k < FRONT_SLABS; k += FRONT_EVERY) {
		struct block_meta *b = slab_block(s[k]);
		size_t n = (size_t)((char *)s[k] - (char *)block_payload(b));

		EXPECT(b == run[k] && b->status == STATUS_ALLOC && (*block_tag(b) & BLOCK_SLAB));
		EXPECT(s[k]->front * 16 == n && n > (FRONT_EVERY - 2) * SLAB_PAGE);
		/* Every page of the run, the header's last one too. */
		EXPECT(resident_pages(block_payload(b), n) == 0);
		EXPECT(obj[k][0][47] == k && slab_object(s[k], obj[k][0]) == SLAB_OBJ_LIVE);
		EXPECT(check_pointer(&arena_main, block_payload(b)) == PTR_FOREIGN);
	}
	memset(&u, 0, sizeof u);
	stats_usage(&arena_main, &u);
	EXPECT(u.in_use_bytes - before < 8 * SLAB_PAGE);   /* the fronts count as free */
	EXPECT(arena_main.fronts == 3);

	/* A block no free one holds (the top taken first) gets a front back
	 * instead of growing the heap: one, which then holds it. */
	EXPECT((top = os_malloc(u.largest_free)) != NULL);
	EXPECT((reuse = os_malloc(30 * 1024)) != NULL);
	CHECK_HEAP();
	EXPECT(arena_main.fronts == 2 && reuse > (char *)s[0] && reuse < (char *)s[FRONT_SLABS - 1]);
	EXPECT(resident_pages(reuse, 30 * 1024) == 0 && reuse[100] == 0);   /* still purged: zero */
	os_free(reuse);
	os_free(top);
	CHECK_HEAP();
	/* The kept slabs fill up: a full slab has no front (only slabs on the
	 * lists do). */
	for (int i = 0; i <= FRONT_SLABS / FRONT_EVERY; i++)
		for (size_t j = 1; j < cap; j++)
			EXPECT((more[i][j] = slab_alloc(&arena_main, 48)) != NULL);
	CHECK_HEAP();
	EXPECT(arena_main.fronts == 0);
	for (int k = 0; k < FRONT_SLABS; k += FRONT_EVERY)
		EXPECT(slab_block(s[k]) == block_of(s[k]) && s[k]->nfree == 0);
	for (int i = 0; i <= FRONT_SLABS / FRONT_EVERY; i++)
		for (size_t j = 1; j < cap; j++)
			slab_free(&arena_main, slab_of(more[i][j]), more[i][j]);
	CHECK_HEAP();
	/* Fronts again, two windows on. */
	heap_decay(&arena_main, 16 * 1024, &left);
	heap_decay(&arena_main, 16 * 1024, &left);
	CHECK_HEAP();
	EXPECT(arena_main.fronts == 3);
	/* The kept slabs fill up again, no other made; emptied, each whole
	 * block is free again. */
	for (int i = 0; i <= FRONT_SLABS / FRONT_EVERY; i++)
		for (size_t j = 1; j < cap; j++) {
			EXPECT((more[i][j] = slab_alloc(&arena_main, 48)) != NULL);
			EXPECT(slab_of(more[i][j]) == s[(int)((char *)slab_of(more[i][j]) - (char *)s[0]) / (int)SLAB_PAGE]);
			EXPECT(((char *)slab_of(more[i][j]) - (char *)s[0]) / SLAB_PAGE % FRONT_EVERY == 0);
			memset(more[i][j], 2, 48);
		}
	CHECK_HEAP();
	for (int i = 0; i <= FRONT_SLABS / FRONT_EVERY; i++) {
		for (size_t j = 1; j < cap; j++)
			slab_free(&arena_main, slab_of(more[i][j]), more[i][j]);
		slab_free(&arena_main, s[i * FRONT_EVERY], obj[i * FRONT_EVERY][0]);
		CHECK_HEAP();
	}
	slab_trim(&arena_main);
	CHECK_HEAP();
	memset(&u, 0, sizeof u);
	stats_usage(&arena_main, &u);
	EXPECT(u.slabs == 0 && u.in_use_bytes == before && u.largest_free >= FRONT_SLABS * SLAB_PAGE);
}

int main(void)
{
	size_t left, purged;
	char *a, *big, *small, *fence, *b2, *tiny, *filler;

	arena_main.idx.lists = true;   /* the index as the drop-in sets it up */
	/* Heap blocks (the core maps 128 KiB and up). */
	a = os_malloc(1000);
	big = os_malloc(100 * 1024);
	fence = os_malloc(1000);       /* keeps big off the top */
	small = os_malloc(4000);
	tiny = os_malloc(2000);        /* keeps small apart from the top */
	filler = os_malloc(19000);     /* all but 1.4 KiB of the rest of the first 128 KiB */
	EXPECT(a && big && fence && small && tiny && filler);
	memset(big, 0x5a, 100 * 1024);
	memset(small, 0x5a, 4000);
	os_free(big);
	os_free(small);
	CHECK_HEAP();
	EXPECT(flags_of(big) == 0);

	/* First pass: big is seen, small (under min) is not looked at. */
	purged = heap_decay(&arena_main, 16 * 1024, &left);
	CHECK_HEAP();
	EXPECT(purged == 0 && left >= 1);
	EXPECT(flags_of(big) == BLOCK_AGED);
	EXPECT(flags_of(small) == 0);
	EXPECT(resident_pages(big, 100 * 1024) > 20);

	/* Second: it stayed free, so its pages go, and read zero. */
	purged = heap_decay(&arena_main, 16 * 1024, &left);
	CHECK_HEAP();
	EXPECT(purged >= 96 * 1024);
	EXPECT(flags_of(big) == (BLOCK_AGED | BLOCK_CLEAN));
	EXPECT(resident_pages(big, 100 * 1024) == 0);
	EXPECT(big[50 * 1024] == 0);
	EXPECT(resident_pages(big, 100 * 1024) == 1);   /* the read faulted one page in */
	EXPECT(flags_of(small) == 0 && small[100] == 0x5a);

	/* Third: nothing new. */
	purged = heap_decay(&arena_main, 16 * 1024, &left);
	EXPECT(purged == 0);

	/* Split (5000 bytes fit no other free block, the top included): what
	 * is left of big keeps its flags. */
	b2 = os_malloc(5000);
	EXPECT(b2 == big);
	CHECK_HEAP();
	EXPECT(flags_of(b2 + block_of(b2)->size + HDR) == (BLOCK_AGED | BLOCK_CLEAN));
	/* Merged back: 5000 bytes of 100 KiB, below a sixteenth: still clean. */
	memset(b2, 2, 5000);
	os_free(b2);
	CHECK_HEAP();
	EXPECT(flags_of(big) == (BLOCK_AGED | BLOCK_CLEAN));
	EXPECT(arena_main.idx.dirt > 0);

	/* Taken whole and given back: new again, and the next pass only marks it. */
	b2 = os_malloc(100 * 1024);
	EXPECT(b2 == big);
	memset(b2, 1, 100 * 1024);
	os_free(b2);
	CHECK_HEAP();
	EXPECT(flags_of(big) == 0);
	purged = heap_decay(&arena_main, 16 * 1024, &left);
	EXPECT(purged == 0 && flags_of(big) == BLOCK_AGED);
	purged = heap_decay(&arena_main, 16 * 1024, &left);
	EXPECT(purged >= 96 * 1024 && resident_pages(big, 100 * 1024) == 0);
	CHECK_HEAP();

	os_free(a);
	os_free(fence);
	os_free(tiny);
	os_free(filler);
	CHECK_HEAP();
	slab_init();
	fronts();
	unit_say("test_decay: a block marked, then purged (%lu bytes), its flags kept across a split and a merge; "
		 "%lu bytes reused inside clean blocks; free runs between kept slabs purged whole as their fronts; "
		 "heap checked after each step\n",
		 (unsigned long)purged, (unsigned long)arena_main.idx.dirt);
	return 0;
}
