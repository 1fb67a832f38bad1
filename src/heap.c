/* The heap: the only file that moves the program break.
 *
 * Heap memory is a list of segments, each a contiguous run of blocks. The
 * first starts at the initial break (aligned to 16) with the preallocation;
 * brk grows the "top" segment, whose end is where the break should be. If the
 * break turns out to have been moved by someone else, the memory brk just gave
 * us starts a new top segment rather than stretching the old last block over
 * foreign memory. If brk fails, heap memory comes
 * from mmap'd segments (SPEC rule 30), and brk is asked again the next time
 * the heap must grow. Segments other than the first carry
 * their record in their first 32 bytes.
 *
 * The other arenas never touch the break: each grows in regions of its own,
 * MAP_REGION bytes reserved at a MAP_REGION boundary (map_reserve), one
 * segment per region, committed from the region's start as the segment
 * grows, the way the break grows the first. A struct region at the start says
 * which arena the region serves, so heap_arena_of finds it from any address
 * in it; the first region also holds the struct arena. */
#include <errno.h>
#include <unistd.h>

#include "internal.h"

void *(*heap_sbrk_fn)(intptr_t delta) = sbrk;

static char *raw_sbrk(struct arena *a, intptr_t delta)
{
	struct counters *k = &a->counters;
	void *p = heap_sbrk_fn(delta);

	if (delta)
		k->brk_calls++;
	if (p == (void *)-1)
		return NULL;
	if (delta > 0)
		stats_grew(&k->heap_bytes, &k->heap_peak, (size_t)delta);
	else
		k->heap_bytes -= (size_t)-delta;
	return p;
}

/* Makes [base, end) a segment of a holding one FREE block and lists it. */
static struct block_meta *seg_open(struct arena *a, struct segment *rec, char *base, char *end)
{
	struct block_meta *b = (struct block_meta *)base;

	rec->base = base;
	rec->end = end;
	rec->next = a->heap.segs;
	__atomic_store_n(&a->heap.segs, rec, __ATOMIC_RELEASE);   /* rec complete before it is seen */
	block_init(b, (size_t)(end - base) - HDR, STATUS_ALLOC, BLOCK_LAST, NULL, NULL);
	index_release(a, b);
	return b;
}

/* [p, p + got) came from brk but does not follow the top segment. Align the
 * break, make the memory the new top segment, and leave its FREE block in the
 * index for the caller's next attempt. */
static void adopt_foreign(struct arena *a, char *p, size_t got)
{
	char *end = p + got, *base = (char *)(((uintptr_t)p + 15) & ~(uintptr_t)15);
	size_t want = (size_t)(-(uintptr_t)end & 15);
	struct segment *rec;

	/* Room for the record, a header and 8 bytes: 2 * HDR + 16 keeps 16-alignment. */
	if ((size_t)(end + want - base) < 2 * HDR + 16)
		want = 2 * HDR + 16 - (size_t)(end - base);
	if (want) {
		if (raw_sbrk(a, (intptr_t)want) != end) {
			a->heap.top = NULL;
			return;
		}
		end += want;
	}
	rec = (struct segment *)base;
	a->heap.top = rec;
	a->heap.top_last = seg_open(a, rec, base + HDR, end);
}

void heap_first_use(struct arena *a)
{
	char *cur, *p;
	size_t pad;

	a->heap.started = true;
	cur = raw_sbrk(a, 0);
	if (!cur)
		return;
	pad = (size_t)(-(uintptr_t)cur & 15);
	p = raw_sbrk(a, (intptr_t)(pad + OSMEM_PREALLOC));
	if (!p)
		return;
	if (p != cur) {
		/* Another thread moved the break between our two calls. */
		adopt_foreign(a, p, pad + OSMEM_PREALLOC);
		return;
	}
	a->heap.top = &a->heap.first;
	a->heap.top_last = seg_open(a, &a->heap.first, cur + pad, cur + pad + OSMEM_PREALLOC);
}

static inline struct region *region_of(struct segment *g)
{
	return (struct region *)((uintptr_t)g->base & ~(MAP_REGION - 1));
}

/* Makes [r->seg.end, + delta) usable: committed OSMEM_ARENA_COMMIT at least
 * at a time, within the region. */
static bool region_grow(struct arena *a, struct region *r, size_t delta)
{
	char *want = r->seg.end + delta, *lim = (char *)r + MAP_REGION;
	size_t more;

	if (delta > (size_t)(lim - r->seg.end))
		return false;
	if (want > r->committed) {
		more = page_up((size_t)(want - r->committed));
		if (more < OSMEM_ARENA_COMMIT)
			more = OSMEM_ARENA_COMMIT;
		if (more > (size_t)(lim - r->committed))
			more = (size_t)(lim - r->committed);
		a->counters.mprotect_calls++;
		if (!map_commit(r->committed, more))
			return false;
		r->committed += more;
		stats_grew(&a->counters.heap_bytes, &a->counters.heap_peak, more);
	}
	r->seg.end = want;
	return true;
}

/* Commits the start of the reserved region at base: room for what comes
 * before `head` and a block of need bytes, OSMEM_ARENA_COMMIT at least.
 * Returns the bytes committed, or 0 with the region given back. */
static size_t region_commit(char *base, size_t need, size_t head)
{
	size_t first = page_up(head + HDR + need);

	if (first < OSMEM_ARENA_COMMIT)
		first = OSMEM_ARENA_COMMIT;
	if (first > MAP_REGION || !map_commit(base, first)) {
		map_unreserve(base);
		return 0;
	}
	return first;
}

/* The region at base, its first bytes committed (region_commit), serves a:
 * from `head` on, a segment of one FREE block, which becomes the top. */
static void region_open(struct arena *a, char *base, size_t first, size_t head)
{
	struct region *r = (struct region *)base;

	a->counters.mprotect_calls++;
	r->arena = a;
	r->committed = base + first;
	stats_grew(&a->counters.heap_bytes, &a->counters.heap_peak, first);
	a->heap.top = &r->seg;
	a->heap.top_last = seg_open(a, &r->seg, base + head, base + first);
}

/* Where the struct arena of an arena made by heap_new_arena lies. */
#define ARENA_AT ((sizeof(struct region) + _Alignof(struct arena) - 1) & ~(_Alignof(struct arena) - 1))

struct arena *heap_new_arena(void)
{
	char *base = map_reserve();
	struct arena *a = (struct arena *)(base + ARENA_AT);
	size_t head = ARENA_AT + ALIGN16(sizeof *a), first;

	if (!base || !(first = region_commit(base, 0, head)))
		return NULL;
	/* Set before its first block is filed (fresh memory: the rest is zero). */
	a->heap.regions = true;
	a->heap.started = true;
	a->heap.home = (struct region *)base;
	a->idx.lists = true;
	region_open(a, base, first, head);
	return a;
}

char *heap_extend(struct arena *a, size_t delta, bool *moved)
{
	struct segment *top = a->heap.top;
	char *p;

	*moved = false;
	if (a->heap.regions) {
		p = top->end;
		if (region_grow(a, region_of(top), delta))
			return p;
		/* This region is full: the next one becomes the top. */
		size_t head = ALIGN16(sizeof(struct region)), first;
		p = map_reserve();
		if ((*moved = p && (first = region_commit(p, delta, head))))
			region_open(a, p, first, head);
		return NULL;
	}
	p = raw_sbrk(a, (intptr_t)delta);

	if (!p)
		return NULL;    /* refused; asked again next time, as memory may come back */
	if (top && p == top->end) {
		top->end += delta;
		return p;
	}
	adopt_foreign(a, p, delta);
	*moved = true;
	return NULL;
}

bool heap_add_mapped_segment(struct arena *a, size_t need)
{
	size_t len = page_up(need + 2 * HDR);
	char *p = NULL;

	if (a->heap.regions)   /* they map nothing outside their regions: heap_arena_of must find them */
		return false;
	/* A roomy segment first, so that the next requests find space; when even
	 * that is refused, just what this request needs. */
	if (len < OSMEM_FALLBACK_SEG)
		p = map_region(OSMEM_FALLBACK_SEG);
	if (p)
		len = OSMEM_FALLBACK_SEG;
	else
		p = map_region(len);
	if (!p)
		return false;
	stats_grew(&a->counters.heap_bytes, &a->counters.heap_peak, len);
	seg_open(a, (struct segment *)p, p + HDR, p + len);
	return true;
}

/* Many segments only where brk is refused (mmap'd ones, 1 MiB each) or
 * under valgrind; the checks of issue 12 look up neighbours' segments in
 * turn, which mostly share one, so the last found is tried first. */
struct segment *heap_segment_of_slow(struct arena *a, const void *addr)
{
	struct segment *g = __atomic_load_n(&a->heap.hint, __ATOMIC_RELAXED);

	if (g && (const char *)addr >= g->base && (const char *)addr < g->end)
		return g;
	for (g = a->heap.segs; g; g = g->next)
		if ((const char *)addr >= g->base && (const char *)addr < g->end) {
			__atomic_store_n(&a->heap.hint, g, __ATOMIC_RELAXED);
			return g;
		}
	return NULL;
}

/* Regions other than the top and the arena's own first that hold one FREE
 * block go back whole; the top's free end is decommitted past keep bytes. */
static bool region_trim(struct arena *a, size_t keep)
{
	struct segment **link = &a->heap.segs, *g;
	struct block_meta *last = heap_last(a);
	struct region *r;
	bool any = false;
	char *cut;

	while ((g = *link)) {
		struct block_meta *b = (struct block_meta *)g->base;
		r = region_of(g);
		if (g == a->heap.top || (char *)a == (char *)r + ARENA_AT ||
		    b->status != STATUS_FREE || !(*block_tag(b) & BLOCK_LAST)) {
			link = &g->next;
			continue;
		}
		index_remove(a, b);
		*link = g->next;
		a->counters.heap_bytes -= (size_t)(r->committed - (char *)r);
		map_unreserve(r);
		any = true;
	}
	if (!last || last->status != STATUS_FREE)
		return any;
	r = region_of(a->heap.top);
	cut = (char *)((uintptr_t)page_up((uintptr_t)block_payload(last) + keep));
	if (cut >= r->committed)
		return any;
	if (cut < r->seg.end) {
		index_remove(a, last);
		last->size = (size_t)(cut - (char *)block_payload(last));
		r->seg.end = cut;
		index_insert(a, last);
	}
	map_decommit(cut, (size_t)(r->committed - cut));
	a->counters.heap_bytes -= (size_t)(r->committed - cut);
	r->committed = cut;
	return true;
}

/* b's whole inner pages back to the system; b is clean until it changes. */
static size_t purge_pages(struct block_meta *b)
{
	uintptr_t lo = page_up((uintptr_t)block_payload(b));
	uintptr_t hi = page_down((uintptr_t)block_end(b));

	*block_tag(b) |= BLOCK_CLEAN;
	if (hi <= lo)
		return 0;
	map_purge((void *)lo, (size_t)(hi - lo));
	return (size_t)(hi - lo);
}

/* malloc_trim's: every block, clean or not (one called clean may hold a
 * few pages used since it was purged). */
static void purge_block(struct arena *a, struct block_meta *b, void *sum)
{
	(void)a;
	*(size_t *)sum += purge_pages(b);
}

size_t heap_purge_block(struct block_meta *b, size_t min)
{
	return b->size >= min ? purge_pages(b) : 0;
}

size_t heap_purge(struct arena *a, size_t min)
{
	size_t sum = 0;

	index_each_large(a, min, purge_block, &sum);
	return sum;
}

struct decay {
	size_t purged, left;
	bool all;   /* clean blocks too */
};

/* Bytes used again inside blocks still called clean (index.c) past which a
 * pass purges those blocks too. */
#define DIRT_MAX (1UL << 20)

static void decay_block(struct arena *a, struct block_meta *b, void *arg)
{
	struct decay *d = arg;
	uint32_t *tag = block_tag(b);

	if ((*tag & BLOCK_CLEAN) && !d->all) {
		/* Purged, but a slab after it keeps its last page: aged, a front
		 * (a front given back comes here, CLEAN). */
		if (!(*tag & BLOCK_AGED) && slab_front_for(a, b)) {
			*tag |= BLOCK_AGED;
			d->left++;
		}
		return;
	}
	if (*tag & BLOCK_AGED) {
		bool again = *tag & BLOCK_CLEAN;
		size_t n = purge_pages(b);
		/* A clean block purged again gives back only what was used in it
		 * since: uncounted. */
		d->purged += again ? 0 : n;
	} else {
		*tag |= BLOCK_AGED;
		d->left++;
	}
}

/* A free run between two slabs kept by a live object or two (1 block in
 * 1000 of 48 bytes kept: every 12th page) has whole pages but the last,
 * which holds the next slab's header: purged, the runs still kept half the
 * resident memory (17% of the peak, 8% in kept slabs). Aged, such a run
 * becomes that slab's front (slab_take_front), and all its pages go. It
 * is a free block again before the heap grows (slab_drop_fronts). Fronts
 * are collected in a walk and made after it (the index cannot change under
 * one), FRONTS at a time; before the walk that ages and purges, so that a
 * run it marks waits a pass, as every block does. */
#define FRONTS 64

struct fronts {
	unsigned n;
	bool more;   /* some left for another walk */
	struct block_meta *f[FRONTS];
	struct slab *s[FRONTS];
};

static void front_block(struct arena *a, struct block_meta *b, void *arg)
{
	struct fronts *r = arg;
	struct slab *s;

	if (!(*block_tag(b) & BLOCK_AGED) || !(s = slab_front_for(a, b)))
		return;
	if (r->n == FRONTS) {
		r->more = true;
		return;
	}
	r->f[r->n] = b;
	r->s[r->n++] = s;
}

static size_t decay_fronts(struct arena *a, size_t min)
{
	struct fronts r;
	size_t sum = 0;

	do {
		r.n = 0;
		r.more = false;
		index_each_large(a, min, front_block, &r);
		for (unsigned i = 0; i < r.n; i++) {
			struct block_meta *f = r.f[i];
			uintptr_t lo = page_up((uintptr_t)block_payload(f)), hi = (uintptr_t)r.s[i];
			/* A run purged before gives only the page it kept. */
			uintptr_t had = *block_tag(f) & BLOCK_CLEAN ? page_down((uintptr_t)block_end(f)) : lo;

			slab_take_front(a, f, r.s[i]);
			if (hi > lo) {
				map_purge((void *)lo, (size_t)(hi - lo));
				sum += (size_t)(hi - (had > lo ? had : lo));
			}
		}
	} while (r.more);
	return sum;
}

size_t heap_decay(struct arena *a, size_t min, size_t *left)
{
	struct decay d = { 0, 0, a->idx.dirt >= DIRT_MAX };

	if (d.all)
		a->idx.dirt = 0;
	d.purged = decay_fronts(a, min);
	index_each_large(a, min, decay_block, &d);
	*left = d.left;
	return d.purged;
}

bool heap_trim(struct arena *a, size_t pad)
{
	struct segment *top = a->heap.top;
	struct block_meta *last = heap_last(a);
	size_t keep = ALIGN16(pad ? pad : 1), cut;

	if (a->heap.regions)
		return region_trim(a, keep);
	if (!last || last->status != STATUS_FREE || last->size < keep + (size_t)getpagesize())
		return false;
	/* Only when the break is still where our heap ends: memory above it is not ours. */
	if (raw_sbrk(a, 0) != top->end)
		return false;
	cut = last->size - keep;
	index_remove(a, last);
	if (!raw_sbrk(a, -(intptr_t)cut)) {
		index_insert(a, last);
		return false;
	}
	last->size = keep;
	top->end -= cut;
	index_insert(a, last);
	return true;
}
