/* Allocations aligned beyond 16 bytes (the memalign family of the drop-in).
 *
 * On the heap the block is over-allocated and its front split off as a FREE
 * block, so the aligned payload has a real header of its own and nothing is
 * wasted for long. A mapping cannot be split (SPEC rule 7: one munmap of the
 * whole block), so there the aligned payload gets a proxy header: status
 * MAPPED, size = the bytes usable from the payload on, the BLOCK_PROXY flag,
 * and prev pointing at the real mapped block. */
#include <errno.h>

#include "internal.h"

/* Gives the heap block b's leading bytes back: the block will start at a's header. */
static struct block_meta *split_front(struct arena *ar, struct block_meta *b, char *a)
{
	struct block_meta *nb = index_carve(ar, b, (char *)block_of(a));

	index_release(ar, b);
	return nb;
}

void *align_alloc(struct arena *ar, size_t align, size_t size)
{
	/* Room to move the payload up to the next boundary and leave a FREE block
	 * (a header and 16 bytes) in front of it. */
	size_t slack = align + HDR + 16, s;
	struct block_meta *b, *px;
	char *p, *a;

	if (size > core_max_request() - slack)
		return core_nomem();
	s = ALIGN16(size ? size : 1);
	if (s + slack + HDR < OSMEM_THRESHOLD) {
		/* A free block that holds the aligned payload as it is (a slab given
		 * back leaves such a hole), else one with room to align inside. */
		b = index_find_aligned(ar, s, align, 16);
		if (b)
			index_take(ar, b);
		else
			b = core_heap_alloc(ar, s + slack);
		if (!b)
			return core_nomem();
		a = block_align_in(b, s, align);   /* fits: the slack allows for it */
		if (a != block_payload(b))
			b = split_front(ar, b, a);
		index_split(ar, b, s);
		return a;
	}
	b = map_block(s + align + HDR);
	if (!b)
		return core_nomem();
	p = block_payload(b);
	if ((uintptr_t)p % align == 0)
		return p;
	a = (char *)(((uintptr_t)p + HDR + align - 1) & ~(uintptr_t)(align - 1));
	px = block_of(a);
	block_init(px, (size_t)(block_end(b) - a), STATUS_MAPPED, BLOCK_PROXY, b, NULL);
	return a;
}
