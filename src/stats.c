/* Figures about the heap for mallinfo2 and malloc_stats: a walk, so O(blocks);
 * nothing on the allocation path pays for them. */
#include <string.h>

#include "internal.h"

void stats_usage(struct arena *a, struct heap_usage *u)
{
	struct block_meta *last = heap_last(a);

	for (struct segment *g = a->heap.segs; g; g = g->next) {
		u->segments++;
		u->heap_bytes += (size_t)(g->end - g->base);
		for (char *p = g->base; p < g->end; p = block_end((struct block_meta *)p)) {
			struct block_meta *b = (struct block_meta *)p;
			if (b->status == STATUS_FREE) {
				u->free_bytes += b->size;
				u->free_blocks++;
				if (b->size > u->largest_free)
					u->largest_free = b->size;
			} else if (*block_tag(b) & BLOCK_SLAB) {
				/* Its free objects and its front are free memory,
				 * though the block is ALLOC. */
				struct slab *s = slab_of_block(b);
				size_t unused = (size_t)s->nfree * s->size + (size_t)s->front * 16;
				u->slabs++;
				u->in_use_bytes += b->size - unused;
				u->free_bytes += unused;
			} else {
				u->in_use_bytes += b->size;
			}
		}
	}
	if (last && last->status == STATUS_FREE)
		u->top_free += last->size;
}

void stats_mapped(struct heap_usage *u)
{
	map_lock();
	for (struct block_meta *b = map_blocks(); b; b = b->next) {
		u->mapped_bytes += b->size + HDR;
		u->mapped_blocks++;
	}
	map_unlock();
}
