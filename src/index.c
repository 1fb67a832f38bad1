/* The free-block index, and the split and merge operations that keep it exact.
 *
 * Every FREE heap block is in exactly one bin: sizes up to OSMEM_EXACT_MAX have
 * a bin each (8-byte steps); larger sizes share log-spaced bins (4 per power of
 * two). Each bin is a treap ordered by (size, address), so its first node is
 * the best fit the spec asks for: smallest size, then lowest address. A bitmap
 * of non-empty bins finds the next larger bin without scanning.
 *
 * Treap nodes live in the free blocks' headers, never in their payloads (SPEC
 * rule 15a: a freed block's bytes stay as the program left them): the left
 * link in prev, the right link in next. No header keeps a physical link in
 * next (block_succ derives it from the size and BLOCK_LAST), and a FREE
 * block's own physical predecessor, which it needs again once it is taken,
 * waits meanwhile in the next field of the header that follows it, or in its
 * segment's record when it is the last block (stash()). Priorities are a hash
 * of the address, so they take no room and the shape is the same in every run.
 *
 * A block freed (or split off) first joins the pending list, in O(1), through
 * the same two links and flagged BLOCK_PENDING; the next search files every
 * pending block into its bin before it looks. Best fit still sees every free
 * block, but a block that merges with a neighbour before then (a run of frees)
 * leaves the list in O(1) instead of costing two treap descents.
 *
 * The drop-in sets the arena's lists flag before its first block: then the bins up to
 * OSMEM_LIST_MAX (one per 8 or 16 bytes) are LIFO lists, left = previous and
 * right = next, so filing, removing and taking a block there is O(1). A bin
 * of one size still gives the best size; only the lowest-address tie-break of
 * SPEC rule 11.1 goes, which os_* (the flag never set) keep. */
#include <string.h>

#include "internal.h"

_Static_assert(OSMEM_LIST_MAX == 1UL << INDEX_LOG_FROM, "bin_of assumes the log-spaced bins start at OSMEM_LIST_MAX");

/* The arena whose index x is. */
static inline struct arena *arena_of(struct index *x)
{
	return (struct arena *)((char *)x - offsetof(struct arena, idx));
}
_Static_assert(offsetof(struct arena, idx) == 0, "arena_of: the index starts the arena");

/* Damage met in the index, naming free block b. */
static _Noreturn __attribute__((cold, noinline)) void corrupt(struct arena *a, struct block_meta *b, const char *what)
{
	core_corrupt(a, "free block", block_payload(b), what);
}

/* within's way for a link outside a's newest segment (or first region): an
 * older segment's walk, else the report. */
static __attribute__((noinline)) struct block_meta *within_far(struct arena *a, struct block_meta *b,
							      struct block_meta *c)
{
	struct segment *g;

	if ((uintptr_t)c % 8 || !(g = heap_segment_of(a, c)) || (size_t)(g->end - (char *)c) < HDR + 8)
		corrupt(a, b, "a link of it leads outside the free blocks");
	return c;
}

/* c, reached from b by a link of the index, before it is read: NULL, or a
 * header's room inside one of a's segments. A link a program's overflow
 * rewrote leads nowhere else. Inline, the segments' walk out of line: as
 * a call on every step of a descent, with the walk inside, the check took
 * 15% of the core's instructions in make bench-scale, and inline the core
 * runs 9.5% fewer. */
static inline __attribute__((always_inline)) struct block_meta *within(struct arena *a, struct block_meta *b,
									struct block_meta *c)
{
	struct segment *g;

	if (c && __builtin_expect((uintptr_t)c % 8 || !(g = heap_segment_near(a, c)) ||
				  (size_t)(g->end - (char *)c) < HDR + 8, 0))
		return within_far(a, b, c);
	return c;
}

/* within, trying g first: the segment of the block whose link it is, which
 * a list neighbour mostly shares. */
static inline struct block_meta *within_near(struct arena *a, struct segment *g, struct block_meta *b,
					     struct block_meta *c)
{
	if (!c || (g && (char *)c >= g->base && (char *)c < g->end && (size_t)(g->end - (char *)c) >= HDR + 8 &&
		   (uintptr_t)c % 8 == 0))
		return c;
	return within(a, b, c);
}

/* The same, and c must be a FREE block: for links followed further than
 * one step (a list walked, a treap descended). */
static inline __attribute__((always_inline)) struct block_meta *follow(struct arena *a, struct block_meta *b,
									struct block_meta *c)
{
	if (within(a, b, c) && __builtin_expect(c->status != STATUS_FREE ||
						(*block_tag(c) & BLOCK_MAGIC_MASK) != BLOCK_MAGIC, 0))
		corrupt(a, b, "a link of it leads outside the free blocks");
	return c;
}

static inline bool list_bin(const struct index *x, unsigned i)
{
	return x->lists && i < INDEX_NEXACT + INDEX_NMID;
}

static inline struct block_meta **left(struct block_meta *b) { return &b->prev; }
static inline struct block_meta **right(struct block_meta *b) { return &b->next; }

/* Where FREE block b keeps its physical predecessor while it is indexed: the
 * next field of its successor (never FREE: free neighbours merge), or of its
 * segment's record when nothing follows it. */
static inline struct block_meta **stash(struct arena *a, struct block_meta *b)
{
	if (!(*block_tag(b) & BLOCK_LAST))
		return right((struct block_meta *)block_end(b));
	return &heap_segment_of(a, b)->tail_prev;
}

struct block_meta *index_pred(struct arena *a, struct block_meta *b)
{
	return b->status == STATUS_FREE ? *stash(a, b) : b->prev;
}

/* b's physical predecessor becomes p. */
static void set_pred(struct arena *a, struct block_meta *b, struct block_meta *p)
{
	if (b->status == STATUS_FREE)
		*stash(a, b) = p;
	else
		b->prev = p;
}

static inline uint32_t prio(const struct block_meta *b)
{
	return (uint32_t)((((uintptr_t)b >> 4) * 0x9e3779b97f4a7c15ull) >> 32);
}

/* The (size, address) order. */
static inline bool before(const struct block_meta *a, const struct block_meta *b)
{
	return a->size < b->size || (a->size == b->size && a < b);
}

static inline unsigned bin_of(size_t size)
{
	unsigned fl;

	if (size <= OSMEM_EXACT_MAX)
		return (unsigned)(size / 8) - 1;
	if (size <= OSMEM_LIST_MAX)
		return INDEX_NEXACT + (unsigned)((size - OSMEM_EXACT_MAX - 1) / 16);
	fl = 63u - (unsigned)__builtin_clzl(size);
	return INDEX_NEXACT + INDEX_NMID + (fl - INDEX_LOG_FROM) * 4 + (unsigned)((size >> (fl - 2)) & 3);
}

/* First non-empty bin at or after i, or INDEX_NBINS. */
static unsigned next_bin(const struct index *x, unsigned i)
{
	unsigned w = i / 64;
	uint64_t bits;

	if (i >= INDEX_NBINS)
		return INDEX_NBINS;
	bits = x->nonempty[w] & (~0ull << (i % 64));
	while (!bits) {
		if (++w == INDEX_NWORDS)
			return INDEX_NBINS;
		bits = x->nonempty[w];
	}
	return w * 64 + (unsigned)__builtin_ctzll(bits);
}

/* Joins two treaps where every key of a precedes every key of b. */
static struct block_meta *tree_join(struct arena *ar, struct block_meta *a, struct block_meta *b)
{
	struct block_meta *root, **link = &root;

	while (a && b) {
		if (prio(a) > prio(b)) {
			*link = a;
			link = right(a);
			a = follow(ar, a, *link);
		} else {
			*link = b;
			link = left(b);
			b = follow(ar, b, *link);
		}
	}
	*link = a ? a : b;
	return root;
}

static void tree_insert(struct index *x, unsigned i, struct block_meta *b)
{
	struct arena *a = arena_of(x);
	struct block_meta **link = &x->bins[i], *t, **l, **r;
	uint32_t p = prio(b);

	while (*link && prio(*link) > p) {
		t = *link;
		link = before(b, t) ? left(t) : right(t);
		follow(a, t, *link);
	}
	/* b becomes the root of this subtree: split the old subtree around b. */
	t = *link;
	l = left(b);
	r = right(b);
	while (t) {
		if (before(t, b)) {
			*l = t;
			l = right(t);
			t = follow(a, t, *l);
		} else {
			*r = t;
			r = left(t);
			t = follow(a, t, *r);
		}
	}
	*l = *r = NULL;
	*link = b;
}

/* Doubly linked lists through the same two links, left = previous and
 * right = next: the pending list, and the list bins of the drop-in. */
static void dlist_push(struct block_meta **head, struct block_meta *b)
{
	*left(b) = NULL;
	*right(b) = *head;
	if (*head)
		*left(*head) = b;
	*head = b;
}

static void dlist_unlink(struct arena *a, struct block_meta **head, struct block_meta *b)
{
	struct segment *g = heap_segment_of(a, b);
	struct block_meta *prev = within_near(a, g, b, *left(b)), *next = within_near(a, g, b, *right(b));

	/* Its neighbours must link to it: else an unlink writes where the damage says. */
	if ((prev ? *right(prev) : *head) != b || (next && *left(next) != b))
		corrupt(a, b, "its list neighbours do not link to it");
	if (prev)
		*right(prev) = next;
	else
		*head = next;
	if (next)
		*left(next) = prev;
}

/* Files b into its bin. */
static void bin_insert(struct index *x, struct block_meta *b)
{
	unsigned i = bin_of(b->size);

	if (list_bin(x, i))
		dlist_push(&x->bins[i], b);
	else
		tree_insert(x, i, b);
	x->nonempty[i / 64] |= 1ull << (i % 64);
}

/* After a block left bin i. */
static void bin_removed(struct index *x, unsigned i)
{
	if (!x->bins[i])
		x->nonempty[i / 64] &= ~(1ull << (i % 64));
	x->nfree--;
}

void index_insert(struct arena *a, struct block_meta *b)
{
	struct index *x = &a->idx;

	*stash(a, b) = b->prev;
	if (list_bin(x, bin_of(b->size))) {   /* O(1) already: no need to wait */
		bin_insert(x, b);
	} else {
		*block_tag(b) |= BLOCK_PENDING;
		dlist_push(&x->pending, b);
		x->npending++;
	}
	x->nfree++;
}

static void pending_unlink(struct index *x, struct block_meta *b)
{
	dlist_unlink(arena_of(x), &x->pending, b);
	*block_tag(b) &= ~BLOCK_PENDING;
	x->npending--;
}

/* Files every pending block into its bin: before any search. */
static void pending_flush(struct index *x)
{
	while (x->pending) {
		struct block_meta *b = x->pending;
		pending_unlink(x, b);
		bin_insert(x, b);
	}
}

static struct block_meta **find_link(struct index *x, struct block_meta *b)
{
	struct block_meta **link = &x->bins[bin_of(b->size)], *t;

	while ((t = *link) && t != b) {
		link = before(b, t) ? left(t) : right(t);
		follow(arena_of(x), t, *link);
	}
	return link;
}

/* Unlinks b from the list of bin i. */
static void list_unlink(struct index *x, unsigned i, struct block_meta *b)
{
	dlist_unlink(arena_of(x), &x->bins[i], b);
	bin_removed(x, i);
}

/* Unlinks the node at *link, which hangs in bin i. */
static void unlink_at(struct index *x, unsigned i, struct block_meta **link)
{
	struct block_meta *b = *link;

	*link = tree_join(arena_of(x), follow(arena_of(x), b, *left(b)), follow(arena_of(x), b, *right(b)));
	bin_removed(x, i);
}

/* Unlinks b from wherever it is filed; its links become garbage. */
static void unlink_any(struct index *x, struct block_meta *b)
{
	struct block_meta **link;

	if (*block_tag(b) & BLOCK_PENDING) {
		pending_unlink(x, b);
		x->nfree--;
		return;
	}
	if (list_bin(x, bin_of(b->size))) {
		list_unlink(x, bin_of(b->size), b);
		return;
	}
	link = find_link(x, b);
	if (*link != b)
		corrupt(arena_of(x), b, "it is not where its size files it");
	unlink_at(x, bin_of(b->size), link);
}

/* b left the index: its predecessor back from the stash, which is cleared
 * (a header's next is NULL unless the block before it is FREE). */
static inline struct block_meta *unstash(struct arena *a, struct block_meta *b)
{
	struct block_meta **slot = stash(a, b), *pred = *slot;

	*slot = NULL;
	return pred;
}

void index_remove(struct arena *a, struct block_meta *b)
{
	unlink_any(&a->idx, b);
	b->prev = unstash(a, b);
}

/* A pending block by its flag: index_check walks the list, and the heap
 * walk checks that as many blocks carry the flag as the list holds. */
bool index_contains(struct arena *a, struct block_meta *b)
{
	struct index *x = &a->idx;
	unsigned i = bin_of(b->size);

	if (*block_tag(b) & BLOCK_PENDING)
		return true;
	if (list_bin(x, i))   /* index_check has checked the lists' links */
		return *left(b) ? *right(*left(b)) == b : x->bins[i] == b;
	return *find_link(x, b) == b;
}

static void each_node(struct arena *a, struct block_meta *t, size_t min,
		      void (*fn)(struct arena *, struct block_meta *, void *), void *arg)
{
	for (; t; t = follow(a, t, *right(t))) {
		each_node(a, follow(a, t, *left(t)), min, fn, arg);
		if (t->size >= min)
			fn(a, t, arg);
	}
}

void index_each_large(struct arena *a, size_t min, void (*fn)(struct arena *, struct block_meta *, void *), void *arg)
{
	struct index *x = &a->idx;

	if (min <= OSMEM_LIST_MAX)   /* smaller bins may be lists, linked otherwise */
		min = OSMEM_LIST_MAX + 1;
	pending_flush(x);
	for (unsigned i = next_bin(x, bin_of(min)); i < INDEX_NBINS; i = next_bin(x, i + 1))
		each_node(a, x->bins[i], min, fn, arg);
}

/* ---- block state changes ---- */

/* b, just unlinked from the index, becomes ALLOC with its predecessor back. */
static struct block_meta *mark_taken(struct arena *a, struct block_meta *b)
{
	a->idx.taken = b;
	a->idx.taken_flags = *block_tag(b) & (BLOCK_AGED | BLOCK_CLEAN);
	block_init(b, b->size, STATUS_ALLOC, *block_tag(b) & BLOCK_LAST, unstash(a, b), NULL);
	return b;
}

void index_take(struct arena *a, struct block_meta *b)
{
	unlink_any(&a->idx, b);
	mark_taken(a, b);
}

/* b, about to be handed out from bin i: its header and its neighbours'
 * must agree, so that no damaged size hands out a live block's bytes. */
static void check_taken(struct arena *a, unsigned i, struct block_meta *b)
{
	const char *what = check_block_ends(a, b, false);

	if (!what && bin_of(b->size) != i)
		what = "its size does not belong in its bin";
	if (what)
		corrupt(a, b, what);
}

/* Takes b out of list bin i, ALLOC. */
static struct block_meta *take_listed(struct arena *a, unsigned i, struct block_meta *b)
{
	check_taken(a, i, b);
	list_unlink(&a->idx, i, b);
	return mark_taken(a, b);
}

struct block_meta *index_take_fit(struct arena *a, size_t s)
{
	struct index *x = &a->idx;
	unsigned i = bin_of(s);
	struct block_meta **link, **best = NULL, *b;

	pending_flush(x);
	if (list_bin(x, i)) {
		/* Every block here fits, unless sizes that are not multiples of 16 share the bin. */
		for (b = x->bins[i]; b && b->size < s; b = follow(a, b, *right(b)))
			;
		if (b)
			return take_listed(a, i, b);
		i++;
	} else if (i >= INDEX_NEXACT) {
		/* A shared bin: the smallest (size, address) with size >= s. */
		for (link = &x->bins[i]; (b = *link);) {
			if (b->size >= s) {
				best = link;
				link = left(b);
			} else {
				link = right(b);
			}
			follow(a, b, *link);
		}
		if (!best)
			i++;
	}
	if (!best) {
		/* Every block of a later bin fits: its first one is the best. */
		i = next_bin(x, i);
		if (i == INDEX_NBINS)
			return NULL;
		if (list_bin(x, i))
			return take_listed(a, i, x->bins[i]);
		for (best = &x->bins[i]; follow(a, *best, *left(*best));)
			best = left(*best);
	}
	b = *best;
	check_taken(a, i, b);
	unlink_at(x, i, best);
	return mark_taken(a, b);
}

struct block_meta *index_find_aligned(struct arena *a, size_t s, size_t align, unsigned max_scan)
{
	struct index *x = &a->idx;
	unsigned i = bin_of(s);

	if (!list_bin(x, i))
		return NULL;
	for (i = next_bin(x, i); list_bin(x, i); i = next_bin(x, i + 1))
		for (struct block_meta *b = x->bins[i]; b; b = follow(a, b, *right(b))) {
			if (block_align_in(b, s, align))
				return b;
			if (--max_scan == 0)
				return NULL;
		}
	return NULL;
}

/* What decay knows of a merged block's pages (heap_decay): aged as its
 * largest part was, so that a small block freed into a large one long free
 * does not hold that one's pages back (nor a large one freed beside a small
 * one lose its wait); clean while the parts that were make up all but a
 * sixteenth of it, so that a few pages used again do not make the next
 * pass purge a large block again (they stay resident until it changes, or
 * until such bytes add up to enough for heap_decay to purge everything
 * again). */
/* Weighs the parts of a merged block (the freed block, then the free
 * neighbours it absorbed, size 0 where none): only called where one of
 * them has a flag. */
static __attribute__((noinline)) uint32_t merged_flags(struct index *x, const size_t *size, const uint32_t *flags)
{
	size_t most = 0, clean = 0, total = 0;
	uint32_t aged = 0;

	for (unsigned i = 0; i < 3; i++) {
		if (size[i] > most) {
			most = size[i];
			aged = flags[i] & BLOCK_AGED;
		}
		clean += flags[i] & BLOCK_CLEAN ? size[i] : 0;
		total += size[i];
	}
	if (!clean || clean < total - total / 16)
		return aged;
	x->dirt += total - clean;   /* heap_decay purges all again past a limit */
	return aged | BLOCK_CLEAN;
}

/* b, whose neighbours are in use (succ follows it, NULL at its segment's
 * end, and names it already), FREE in the index with decay's flags. */
static void file_free(struct arena *a, struct block_meta *b, struct block_meta *succ, uint32_t flags)
{
	b->status = STATUS_FREE;
	*block_tag(b) = BLOCK_MAGIC | (succ ? 0 : BLOCK_LAST) | flags;
	index_insert(a, b);
}

/* index_release of b, whose pages decay knows as kept says. */
static struct block_meta *release_as(struct arena *a, struct block_meta *b, uint32_t kept)
{
	struct block_meta *succ = block_succ(b), *pred = b->prev, *n;
	size_t bsize = b->size, ssize = 0, psize = 0;
	uint32_t stag = 0, ptag = 0;

	a->idx.taken = NULL;
	if (succ && succ->status == STATUS_FREE) {
		ssize = succ->size;
		stag = *block_tag(succ);
		n = block_succ(succ);
		index_remove(a, succ);
		*block_tag(succ) = BLOCK_MAGIC | BLOCK_DEAD;
		b->size += HDR + succ->size;
		if (a->heap.top_last == succ)
			a->heap.top_last = b;
		succ = n;
	}
	if (pred && pred->status == STATUS_FREE) {
		psize = pred->size;
		ptag = *block_tag(pred);
		index_remove(a, pred);
		*block_tag(b) = BLOCK_MAGIC | BLOCK_DEAD;
		pred->size += HDR + b->size;
		if (a->heap.top_last == b)
			a->heap.top_last = pred;
		b = pred;
	}
	if (succ)
		succ->prev = b;
	file_free(a, b, succ, (kept | stag | ptag) & (BLOCK_AGED | BLOCK_CLEAN) ?   /* mostly none: nothing to weigh */
		  merged_flags(&a->idx, (size_t[]){ bsize, ssize, psize }, (uint32_t[]){ kept, stag, ptag }) : 0);
	return b;
}

struct block_meta *index_release(struct arena *a, struct block_meta *b)
{
	return release_as(a, b, 0);
}

/* b now ends where r, its former tail, starts: succ (b's successor, NULL
 * at its segment's end), b's own size and last flag, and the top follow. */
static void carve_at(struct arena *a, struct block_meta *b, struct block_meta *r, struct block_meta *succ)
{
	if (succ)
		set_pred(a, succ, r);
	*block_tag(b) &= ~BLOCK_LAST;
	block_set_size(b, (size_t)((char *)r - (char *)b) - HDR);
	if (a->heap.top_last == b)
		a->heap.top_last = r;
}

struct block_meta *index_carve(struct arena *a, struct block_meta *b, char *at)
{
	struct block_meta *r = (struct block_meta *)at, *succ = block_succ(b);

	block_init(r, (size_t)(block_end(b) - at) - HDR, STATUS_ALLOC, *block_tag(b) & BLOCK_LAST, b, NULL);
	carve_at(a, b, r, succ);
	return r;
}

/* Where b's successor is in use (always so when b came from the index: no
 * two free blocks are neighbours) the remainder r goes straight to the
 * index, with nothing to merge: release_as's way cost 139 instructions a
 * split, a seal computed for r only to be overwritten among them. */
void index_split(struct arena *a, struct block_meta *b, size_t s)
{
	uint32_t kept = a->idx.taken == b ? a->idx.taken_flags : 0;
	struct block_meta *r = (struct block_meta *)((char *)b + HDR + s), *succ;

	if (b->size - s < MIN_SPLIT)
		return;
	succ = block_succ(b);
	if (succ && succ->status == STATUS_FREE) {   /* a block shrunk in place: r merges with it */
		release_as(a, index_carve(a, b, (char *)r), kept);
		return;
	}
	r->size = b->size - s - HDR;
	r->prev = b;
	carve_at(a, b, r, succ);
	a->idx.taken = NULL;
	file_free(a, r, succ, kept & (BLOCK_AGED | BLOCK_CLEAN));   /* merged_flags of r alone */
}

void index_absorb_next(struct arena *a, struct block_meta *b)
{
	struct block_meta *n = block_succ(b), *nn = block_succ(n);

	index_remove(a, n);
	*block_tag(b) |= *block_tag(n) & BLOCK_LAST;
	*block_tag(n) = BLOCK_MAGIC | BLOCK_DEAD;
	block_set_size(b, b->size + HDR + n->size);
	if (nn)
		nn->prev = b;
	if (a->heap.top_last == n)
		a->heap.top_last = b;
}

struct block_meta *index_give_to_next(struct arena *a, struct block_meta *f)
{
	struct block_meta *b = block_succ(f), *n = block_succ(b);
	uint32_t flags = *block_tag(b) & ~BLOCK_MAGIC_MASK;

	index_remove(a, f);   /* f->prev is its predecessor again, b's stash cleared */
	*block_tag(b) = BLOCK_MAGIC | BLOCK_DEAD;
	block_init(f, f->size + HDR + b->size, STATUS_ALLOC, flags, f->prev, NULL);
	if (n)
		set_pred(a, n, f);
	if (a->heap.top_last == b)
		a->heap.top_last = f;
	return f;
}

struct block_meta *index_take_front(struct arena *a, struct block_meta *b, char *at, uint32_t kept)
{
	uint32_t flags = *block_tag(b) & ~(BLOCK_MAGIC_MASK | BLOCK_LAST);
	struct block_meta *r = index_carve(a, b, at);

	*block_tag(r) |= flags;   /* the seal covers the status and size, not the flags */
	*block_tag(b) &= ~flags;
	return release_as(a, b, kept);
}

/* ---- checking ---- */

struct walk {
	const struct index *x;
	char *msg;
	size_t len;
	size_t seen;
	int bad;
};

static void walk_tree(struct walk *w, struct block_meta *t, unsigned bin,
		      const struct block_meta *lo, const struct block_meta *hi, unsigned depth)
{
	for (; t && !w->bad; t = *right(t)) {
		if (depth > 200) {
			diag_fmt(w->msg, w->len, "index bin %u: deeper than 200 (a cycle?)", bin);
			w->bad = 1;
			return;
		}
		if (t->status != STATUS_FREE || !block_tag_ok(t) || (*block_tag(t) & BLOCK_PENDING)) {
			diag_fmt(w->msg, w->len, "index bin %u: block %p is not a tagged FREE block (status %d)",
				 bin, (void *)t, t->status);
			w->bad = 1;
			return;
		}
		if (bin_of(t->size) != bin || (lo && !before(lo, t)) || (hi && !before(t, hi))) {
			diag_fmt(w->msg, w->len, "index bin %u: block %p size %zu out of order or in the wrong bin",
				 bin, (void *)t, t->size);
			w->bad = 1;
			return;
		}
		if ((*left(t) && prio(*left(t)) > prio(t)) || (*right(t) && prio(*right(t)) > prio(t))) {
			diag_fmt(w->msg, w->len, "index bin %u: block %p breaks the heap order", bin, (void *)t);
			w->bad = 1;
			return;
		}
		w->seen++;
		walk_tree(w, *left(t), bin, lo, t, depth + 1);
		lo = t;
		depth++;
	}
}

static void walk_list(struct walk *w, unsigned bin)
{
	struct block_meta *prev = NULL;

	for (struct block_meta *t = w->x->bins[bin]; t && !w->bad; prev = t, t = *right(t)) {
		if (t->status != STATUS_FREE || !block_tag_ok(t) || (*block_tag(t) & BLOCK_PENDING) ||
		    *left(t) != prev || bin_of(t->size) != bin) {
			diag_fmt(w->msg, w->len, "index list %u: block %p (size %zu) is not a linked FREE block of the bin",
				 bin, (void *)t, t->size);
			w->bad = 1;
		}
		if (++w->seen > w->x->nfree) {
			diag_fmt(w->msg, w->len, "index list %u: more blocks than counted (a cycle?)", bin);
			w->bad = 1;
		}
	}
}

int index_check(struct arena *a, char *msg, size_t len)
{
	const struct index *x = &a->idx;
	struct walk w = { x, msg, len, 0, 0 };

	for (unsigned i = 0; i < INDEX_NBINS && !w.bad; i++) {
		bool bit = x->nonempty[i / 64] >> (i % 64) & 1;
		if (bit != (x->bins[i] != NULL)) {
			diag_fmt(msg, len, "index bin %u: bitmap says %s but the bin is %s", i,
				 bit ? "non-empty" : "empty", x->bins[i] ? "not" : "empty");
			return -1;
		}
		if (list_bin(x, i))
			walk_list(&w, i);
		else
			walk_tree(&w, x->bins[i], i, NULL, NULL, 0);
	}
	if (w.bad)
		return -1;
	size_t listed = 0;

	for (struct block_meta *p = x->pending, *prev = NULL; p; prev = p, p = *right(p)) {
		if (p->status != STATUS_FREE || !block_tag_ok(p) || !(*block_tag(p) & BLOCK_PENDING) ||
		    *left(p) != prev) {
			diag_fmt(msg, len, "pending list: block %p is not a linked, flagged FREE block", (void *)p);
			return -1;
		}
		w.seen++;
		if (++listed > x->npending)
			break;
	}
	if (listed != x->npending) {
		diag_fmt(msg, len, "pending list: %zu blocks linked but %zu counted", listed, x->npending);
		return -1;
	}
	if (w.seen != x->nfree) {
		diag_fmt(msg, len, "index: %zu blocks reachable (bins and pending) but %zu counted", w.seen, x->nfree);
		return -1;
	}
	return 0;
}
