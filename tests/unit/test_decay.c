/* heap_decay (src/heap.c) and the flags it leaves in free blocks' headers
 * (src/index.c), on arena_main's heap through os_malloc and os_free:
 *   - a first pass only marks (BLOCK_AGED), a second purges what stayed
 *     free (BLOCK_CLEAN; the pages read zero again and are not resident),
 *     a third finds nothing to do;
 *   - a block split off a purged block keeps its flags (the pages are the
 *     same), a block freed into a large purged one leaves it clean, and
 *     a free block taken and given back is new again;
 *   - blocks smaller than min are left alone;
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
	unit_say("test_decay: a block marked, then purged (%lu bytes), its flags kept across a split and a merge; "
		 "%lu bytes reused inside clean blocks; heap checked after each step\n",
		 (unsigned long)purged, (unsigned long)arena_main.idx.dirt);
	return 0;
}
