/* The invariant checker: walks every heap segment, the free index and the
 * mapped list, and reports the first thing that is not as the design needs
 * it. O(blocks): for tests, OSMEM_CHECK and `make DEBUG=1`, never the fast path. */
#include <unistd.h>

#include "internal.h"

#define FAIL(...) do { diag_fmt(msg, len, __VA_ARGS__); return -1; } while (0)

struct walk {
	size_t nfree, npending;     /* FREE blocks, and those on the pending list */
	size_t fronts;              /* slabs with a front */
	unsigned slabs[SLAB_CLASSES], empty[SLAB_CLASSES];   /* slabs of each class, and those with every object free */
};

static int check_segment(struct arena *a, struct segment *g, struct walk *w, char *msg, size_t len)
{
	struct block_meta *prev = NULL;
	const char *what;
	char *p = g->base;

	if ((uintptr_t)g->base % 16)
		FAIL("segment %p: base not 16-aligned", (void *)g->base);
	while (p < g->end) {
		struct block_meta *b = (struct block_meta *)p;
		char *end;

		if (!block_tag_ok(b) || (*block_tag(b) & (BLOCK_DEAD | BLOCK_PROXY)))
			FAIL("block %p: bad tag %x (header overwritten?)", (void *)b, *block_tag(b));
		if (b->status != STATUS_FREE && b->status != STATUS_ALLOC)
			FAIL("block %p: heap block with status %d", (void *)b, b->status);
		if (b->size % 8 || b->size == 0)
			FAIL("block %p: size %zu is not a positive multiple of 8", (void *)b, b->size);
		if (b->size > (size_t)(g->end - p) - HDR)
			FAIL("block %p: size %zu runs past its segment end %p", (void *)b, b->size, (void *)g->end);
		end = block_end(b);
		if ((bool)(*block_tag(b) & BLOCK_LAST) != (end == g->end))
			FAIL("block %p: LAST flag %d but it %s its segment", (void *)b, !!(*block_tag(b) & BLOCK_LAST),
			     end == g->end ? "ends" : "does not end");
		/* Before index_pred, which reads a FREE block's successor or segment. */
		if (b->status == STATUS_FREE && !index_contains(a, b))
			FAIL("free block %p (size %zu) is not in the index", (void *)b, b->size);
		if (b->status == STATUS_FREE && index_pred(a, b) != prev)
			FAIL("free block %p: predecessor is %p, the walk says %p", (void *)b, (void *)index_pred(a, b), (void *)prev);
		if (b->status == STATUS_ALLOC) {
			if (b->prev != prev)
				FAIL("block %p: prev is %p, the walk says %p", (void *)b, (void *)b->prev, (void *)prev);
			/* A free block before it keeps its predecessor here (index.c). */
			if ((!prev || prev->status != STATUS_FREE) && b->next)
				FAIL("block %p: next is %p, the walk says NULL (no free block before it)",
				     (void *)b, (void *)b->next);
			if (*block_tag(b) & BLOCK_SLAB) {
				if (slab_check(a, b, msg, len))
					return -1;
				struct slab *s = slab_of_block(b);

				w->fronts += s->front != 0;
				w->slabs[s->cls]++;
				w->empty[s->cls] += s->nfree == s->cap;
			}
		} else {
			if (prev && prev->status == STATUS_FREE)
				FAIL("free blocks %p and %p are adjacent (not merged)", (void *)prev, (void *)b);
			w->nfree++;
			w->npending += (*block_tag(b) & BLOCK_PENDING) != 0;
		}
		prev = b;
		p = end;
	}
	if (p != g->end)
		FAIL("segment %p: the walk ends at %p, not at %p", (void *)g->base, (void *)p, (void *)g->end);
	if (prev && prev->status != STATUS_FREE && g->tail_prev)
		FAIL("segment %p: tail_prev is %p, but its last block is not free", (void *)g->base, (void *)g->tail_prev);
	if (g == heap_top(a) && heap_last(a) != prev)
		FAIL("top segment: last block is %p, the walk says %p", (void *)heap_last(a), (void *)prev);
	/* What free and the index trust a header for must hold of every block:
	 * a second walk, once the first (whose lines say more) has passed. */
	for (p = g->base; p < g->end; p = block_end((struct block_meta *)p))
		if ((what = check_block(a, (struct block_meta *)p)))
			FAIL("block %p: check_block says %s", (void *)p, what);
	return 0;
}

/* The top segment must end at or below the break; above it someone has
 * shrunk the break under our blocks. (Below is fine: a foreign move we have
 * not met yet.) */
static bool break_below(const struct segment *top)
{
	char *brk = heap_sbrk_fn(0);

	return brk != (char *)-1 && brk < top->end;
}

static int check_mapped_locked(char *msg, size_t len)
{
	size_t nmapped = 0;

	for (struct block_meta *b = map_blocks(), *prev = NULL; b; prev = b, b = b->next) {
		if (!map_sealed_locked(b))
			FAIL("mapped list: block %p has status %d tag %x (not its seal)", (void *)b, b->status, *block_tag(b));
		if (b->prev != prev)
			FAIL("mapped list: block %p prev %p, expected %p", (void *)b, (void *)b->prev, (void *)prev);
		if (b->size % 8 || b->size + HDR < 8)
			FAIL("mapped block %p: size %zu", (void *)b, b->size);
		if (++nmapped > map_count())
			break;
	}
	if (nmapped != map_count())
		FAIL("mapped list holds %zu blocks, %zu counted", nmapped, map_count());
	return 0;
}

/* The process's mapped list, under its lock. */
static int check_mapped(char *msg, size_t len)
{
	int r;

	map_lock();
	r = check_mapped_locked(msg, len);
	map_unlock();
	return r;
}

int check_heap(struct arena *a, char *msg, size_t len)
{
	struct walk w = { 0 };
	struct segment *top = heap_top(a);

	for (struct segment *g = a->heap.segs; g; g = g->next)
		if (check_segment(a, g, &w, msg, len))
			return -1;
	if (top && !a->heap.regions && break_below(top))
		FAIL("the break %p is below the heap top %p", heap_sbrk_fn(0), (void *)top->end);
	if (index_check(a, msg, len))
		return -1;
	if (w.nfree != a->idx.nfree)
		FAIL("the walk found %zu free blocks, the index holds %zu", w.nfree, a->idx.nfree);
	if (w.npending != a->idx.npending)
		FAIL("the walk found %zu pending free blocks, the list holds %zu", w.npending, a->idx.npending);
	if (w.fronts != a->fronts)
		FAIL("the walk found %zu slabs with a front, the arena counts %u", w.fronts, a->fronts);
	for (unsigned c = 0; c < SLAB_CLASSES; c++) {
		if (w.slabs[c] != a->slabs[c])
			FAIL("the walk found %u slabs of %u bytes, the arena counts %u", w.slabs[c], 16 * (c + 1), a->slabs[c]);
		/* One kept alone (put_back), or a new slab and those made with it (slab_new). */
		if (w.empty[c] > SLAB_AHEAD + 1)
			FAIL("the walk found %u empty slabs of %u bytes, at most %u may be kept", w.empty[c], 16 * (c + 1),
			     SLAB_AHEAD + 1);
	}
	return check_mapped(msg, len);
}

/* p, read as the predecessor of b (a block of g), ends where b starts: a
 * header of g that no merge has swallowed, whose size reaches b; no p: b
 * starts g. */
static bool pred_ends_at(struct segment *g, struct block_meta *b, struct block_meta *p)
{
	if (!p)
		return (char *)b == g->base;
	return (char *)p >= g->base && p < b && (uintptr_t)p % 8 == 0 && (size_t)((char *)b - (char *)p) >= HDR + 8 &&
	       __atomic_load_n(&p->size, __ATOMIC_RELAXED) == (size_t)((char *)b - (char *)p) - HDR &&
	       !(__atomic_load_n(block_tag(p), __ATOMIC_RELAXED) & BLOCK_DEAD);
}

/* The common case of check_block, in a few loads: a block in use whose
 * seal holds has the size it was given, so the block after it is where it
 * was (and says so when it is itself checked); only the predecessor link
 * lies outside the seal. Anything else takes the full way, which names
 * what is wrong. */
static bool sealed_and_linked(struct arena *a, struct block_meta *b)
{
	struct segment *g = heap_segment_of(a, b);
	uint32_t tag = *block_tag(b);
	size_t room;

	if (!g || b->status != STATUS_ALLOC || (tag & (BLOCK_DEAD | BLOCK_PROXY | BLOCK_GROWN | BLOCK_FREE_ONLY)) ||
	    (tag & BLOCK_MAGIC_MASK) != block_magic(b, STATUS_ALLOC, b->size, tag) ||
	    (size_t)(g->end - (char *)b) < HDR + 8)
		return false;
	room = (size_t)(g->end - (char *)b) - HDR;
	if (b->size > room || (bool)(tag & BLOCK_LAST) != (b->size == room))
		return false;
	return pred_ends_at(g, b, b->prev);
}

const char *check_block(struct arena *a, struct block_meta *b)
{
	return sealed_and_linked(a, b) ? NULL : check_block_ends(a, b, true);
}

/* Reads each field once: without the lock (the drop-in's first look at a
 * block it frees), a neighbour may change meanwhile; what is read is only
 * ever a reason to look again under the lock, never a fault. */
const char *check_block_ends(struct arena *a, struct block_meta *b, bool start)
{
	struct segment *g = heap_segment_of(a, b);
	struct block_meta *n, *p, *np;
	size_t size, nsize, room, nroom;
	uint32_t tag, ntag;
	int status, nstatus;

	if (!g || (uintptr_t)b % 8 || (char *)b < g->base || (size_t)(g->end - (char *)b) < HDR + 8)
		return "not a block of the heap";
	tag = __atomic_load_n(block_tag(b), __ATOMIC_RELAXED);
	status = __atomic_load_n(&b->status, __ATOMIC_RELAXED);
	size = __atomic_load_n(&b->size, __ATOMIC_RELAXED);
	if ((status == STATUS_FREE && (tag & BLOCK_MAGIC_MASK) != BLOCK_MAGIC) ||
	    (tag & (BLOCK_DEAD | BLOCK_PROXY | BLOCK_GROWN)) || (status != STATUS_ALLOC && status != STATUS_FREE) ||
	    (status == STATUS_ALLOC ? (tag & BLOCK_FREE_ONLY) != 0 : (tag & BLOCK_SLAB) != 0))
		return "its status and tag disagree";
	room = (size_t)(g->end - (char *)b) - HDR;
	if (size == 0 || size % 8)
		return "its size is not a positive multiple of 8";
	if (size > room)
		return "its size runs past the end of its segment";
	if ((bool)(tag & BLOCK_LAST) != (size == room))
		return "its size does not end at a block";
	if (size < room) {
		/* The block after it must name it as its predecessor: in its prev
		 * when in use, else where a free block keeps it (index.c). */
		n = (struct block_meta *)block_end(b);
		ntag = __atomic_load_n(block_tag(n), __ATOMIC_RELAXED);
		nsize = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
		nroom = room - size - HDR;
		nstatus = __atomic_load_n(&n->status, __ATOMIC_RELAXED);
		/* (Its seal, if in use, is its own business: it must name b.) */
		if (nroom < 8 || (nstatus == STATUS_FREE && (ntag & BLOCK_MAGIC_MASK) != BLOCK_MAGIC) || (ntag & BLOCK_DEAD) ||
		    nsize == 0 || nsize % 8 || nsize > nroom)
			return "its size does not end at a block";
		switch (nstatus) {
		case STATUS_ALLOC:
			np = __atomic_load_n(&n->prev, __ATOMIC_RELAXED);
			break;
		case STATUS_FREE:
			if (status == STATUS_FREE)
				return "the block after it is free too";
			np = nsize == nroom ? __atomic_load_n(&g->tail_prev, __ATOMIC_RELAXED)
					   : __atomic_load_n(&((struct block_meta *)block_end(n))->next, __ATOMIC_RELAXED);
			break;
		default:
			return "its size does not end at a block";
		}
		if (np != b)
			return "the block after it names another predecessor";
	}
	/* A block in use: its seal, last, so that the lines above say more. */
	if ((tag & BLOCK_MAGIC_MASK) != block_magic(b, status, size, tag))
		return "its tag does not match its address and size";
	if (!start)
		return NULL;
	/* And its predecessor must end where it starts. */
	p = status == STATUS_ALLOC ? __atomic_load_n(&b->prev, __ATOMIC_RELAXED)
				   : size == room ? __atomic_load_n(&g->tail_prev, __ATOMIC_RELAXED)
						  : __atomic_load_n(&((struct block_meta *)block_end(b))->next, __ATOMIC_RELAXED);
	return pred_ends_at(g, b, p) ? NULL : "its predecessor link is damaged";
}

/* Mapped headers start a mapping, so they sit on a page boundary; the
 * list and the header's seal say the rest. */
static enum map_state mapped_state(struct block_meta *b)
{
	if ((uintptr_t)b % (uintptr_t)getpagesize() || b->status != STATUS_MAPPED)
		return MAP_NOT_OURS;
	return map_state_of(b);
}

enum ptr_kind check_pointer(struct arena *a, const void *p)
{
	struct block_meta *b = block_of((void *)p);

	if ((uintptr_t)p % 8)
		return PTR_FOREIGN;
	if (heap_segment_of(a, b)) {
		/* A slab's own payload is not an object (slab_of finds those). */
		if (*block_tag(b) & (BLOCK_PROXY | BLOCK_SLAB))
			return PTR_FOREIGN;
		/* In use by its status, but its seal broken: check_block says why. */
		if (!block_tag_ok(b))
			return b->status == STATUS_ALLOC && !(*block_tag(b) & BLOCK_DEAD) ? PTR_HEAP : PTR_FOREIGN;
		if (*block_tag(b) & BLOCK_DEAD)
			return PTR_FREED;
		if (b->status == STATUS_ALLOC)
			return PTR_HEAP;
		return b->status == STATUS_FREE ? PTR_FREED : PTR_FOREIGN;
	}
	/* Not heap memory: a mapped block, a proxy inside one, or not ours. Its
	 * header must be readable memory; like any allocator, a wild pointer can
	 * still fault here. */
	switch (mapped_state(b)) {
	case MAP_LIVE:
		return PTR_MAPPED;
	case MAP_DAMAGED:
		return PTR_DAMAGED;
	default:
		break;
	}
	if (block_tag_ok(b) && (*block_tag(b) & BLOCK_PROXY) && b->status == STATUS_MAPPED &&
	    mapped_state(b->prev) == MAP_LIVE && (char *)p > (char *)block_payload(b->prev) &&
	    (char *)p + b->size == block_end(b->prev))
		return PTR_MAPPED;
	return PTR_FOREIGN;
}

struct block_meta *check_owner(const void *p)
{
	struct block_meta *b = block_of((void *)p);

	return (*block_tag(b) & BLOCK_PROXY) ? b->prev : b;
}
