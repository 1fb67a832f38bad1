/* The os_* API: SPEC part 1, rule by rule, on the main arena; the heap
 * algorithm for any arena. Single-threaded by design: the drop-in layer
 * serialises each arena's callers. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "osmem.h"

#define EXPORT __attribute__((visibility("default")))

/* The arena of the os_* API and of single-threaded programs: the brk heap. */
struct arena arena_main;

static const bool debug_checks = OSMEM_DEBUG;

static void debug_check(const char *call)
{
	char msg[256];

	if (check_heap(&arena_main, msg, sizeof msg) != 0)
		diag_die("osmem: heap corrupted (found in %s): %s\n", call, msg);
}

/* Grows the heap by need bytes, plus the arena's grow_pad when that is
 * granted (*extra tells how much more came). */
static char *extend(struct arena *a, size_t need, size_t *extra, bool *moved)
{
	char *at;

	*extra = a->grow_pad;
	if (*extra) {
		at = heap_extend(a, need + *extra, moved);
		if (at || *moved)
			return at;
	}
	*extra = 0;
	return heap_extend(a, need, moved);
}

/* Rules 11.5 and 11.6: no free block fits, so grow at the break. NULL when
 * the break could not be grown in place (*moved: see heap_extend). */
static struct block_meta *grow_top(struct arena *a, size_t s, bool *moved)
{
	struct block_meta *last = heap_last(a), *b;
	size_t extra;
	char *at;

	if (last && last->status == STATUS_FREE) {
		if (!extend(a, s - last->size, &extra, moved))
			return NULL;
		index_take(a, last);
		block_set_size(last, s + extra);
		index_split(a, last, s);
		return last;
	}
	at = extend(a, s + HDR, &extra, moved);
	if (!at)
		return NULL;
	b = (struct block_meta *)at;
	block_init(b, s + extra, STATUS_ALLOC, BLOCK_LAST, last, NULL);
	if (last)
		*block_tag(last) &= ~BLOCK_LAST;
	a->heap.top_last = b;
	index_split(a, b, s);
	return b;
}

bool (*core_before_grow)(struct arena *a);

/* Rule 11, the heap algorithm, for an aligned size s. */
struct block_meta *core_heap_alloc(struct arena *a, size_t s)
{
	struct block_meta *b;
	bool asked = false;

	if (!a->heap.started)
		heap_first_use(a);
	for (int tries = 0;; ) {
		bool moved;

		b = index_take_fit(a, s);
		if (b) {
			index_split(a, b, s);
			return b;
		}
		/* The drop-in's decay made fronts of free runs: they go back first. */
		if (a->fronts && slab_drop_fronts(a, s))
			continue;
		/* Then the blocks the caller's thread cache holds, once a call. */
		if (!asked && core_before_grow && (asked = true, core_before_grow(a)))
			continue;
		b = grow_top(a, s, &moved);
		if (b)
			return b;
		/* The break was moved under us: a new top segment now holds what
		 * brk gave; try again, but not forever if it keeps moving. */
		if (moved && ++tries < 8)
			continue;
		if (!heap_add_mapped_segment(a, s))
			return NULL;
	}
}

struct block_meta *core_alloc(struct arena *a, size_t s, size_t mmap_from)
{
	return s + HDR >= mmap_from ? map_block(s) : core_heap_alloc(a, s);
}

void core_remote_push_chain(struct arena *a, void *first, void *last)
{
	void *head = __atomic_load_n(&a->remote, __ATOMIC_RELAXED);

	do
		*(uintptr_t *)last = core_link_mangle(last, head);
	while (!__atomic_compare_exchange_n(&a->remote, &head, first, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

void core_remote_push(struct arena *a, void *p)
{
	core_remote_push_chain(a, p, p);
}

void *core_remote_take(struct arena *a)
{
	/* A load first: most calls find the list empty, and a read keeps the
	 * line shared with the threads that push. */
	if (!__atomic_load_n(&a->remote, __ATOMIC_RELAXED))
		return NULL;
	return __atomic_exchange_n(&a->remote, NULL, __ATOMIC_ACQUIRE);
}

void core_corrupt(struct arena *a, const char *what, const void *p, const char *detail)
{
	a->damaged = true;
	diag_corrupt(what, p, detail);
	diag_unwind();
}

void *core_nomem(void)
{
	errno = ENOMEM;
	return NULL;
}

EXPORT void *os_malloc(size_t size)
{
	struct block_meta *b;

	if (debug_checks)
		debug_check("os_malloc");
	if (size == 0)
		return NULL;
	if (size > CORE_MAX_REQUEST)
		return core_nomem();
	b = core_alloc(&arena_main, ALIGN8(size), OSMEM_THRESHOLD);
	if (debug_checks)
		debug_check("os_malloc");
	return b ? block_payload(b) : core_nomem();
}

EXPORT void *os_calloc(size_t nmemb, size_t size)
{
	struct block_meta *b;
	size_t total;

	if (debug_checks)
		debug_check("os_calloc");
	if (nmemb == 0 || size == 0)
		return NULL;
	if (__builtin_mul_overflow(nmemb, size, &total) || total > CORE_MAX_REQUEST)
		return core_nomem();
	/* Rule 14: from a page up, a fresh mapping is already zero. */
	b = core_alloc(&arena_main, ALIGN8(total), (size_t)getpagesize());
	if (!b)
		return core_nomem();
	if (b->status != STATUS_MAPPED)
		memset(block_payload(b), 0, b->size);
	if (debug_checks)
		debug_check("os_calloc");
	return block_payload(b);
}

/* b, a heap block handed to os_free or os_realloc, if its header and its
 * neighbours' agree (check_block); else one line and abort (issue 12). */
static struct block_meta *trusted(struct block_meta *b, const char *call)
{
	const char *what = check_block(&arena_main, b);

	if (what)
		diag_die("osmem: %s(%p): corrupted header: %s\n", call, block_payload(b), what);
	return b;
}

EXPORT void os_free(void *ptr)
{
	struct block_meta *b;

	if (debug_checks)
		debug_check("os_free");
	if (!ptr)
		return;
	b = block_of(ptr);
	if (b->status == STATUS_MAPPED) {
		if (map_state_of(b) == MAP_DAMAGED)
			diag_die("osmem: os_free(%p): corrupted header: a mapped block whose size or links were changed\n", ptr);
		map_release(b);
	} else if (b->status == STATUS_ALLOC) {
		index_release(&arena_main, trusted(b, "os_free"));
	}
	if (debug_checks)
		debug_check("os_free");
}

/* Rule 19 and 21.4: a new block, the data copied, the old block freed. */
static void *realloc_move(struct arena *a, struct block_meta *b, size_t s, size_t mmap_from)
{
	struct block_meta *nb = core_alloc(a, s, mmap_from);
	size_t keep = b->size < s ? b->size : s;

	if (!nb)
		return core_nomem();
	/* A buffer growing past the threshold: its copy would fault a page at a
	 * time (realloc_grow: 122,700 faults against glibc's 96,000, which keeps
	 * such buffers in its heap). */
	if (a->populate_moves && nb->status == STATUS_MAPPED)
		map_populate(block_payload(nb), keep);
	memcpy(block_payload(nb), block_payload(b), keep);
	if (b->status == STATUS_MAPPED)
		map_release(b);
	else
		index_release(a, b);
	return block_payload(nb);
}

/* Rule 21.1: the last block grows with the break. */
static bool grow_last(struct arena *a, struct block_meta *b, size_t s)
{
	size_t extra;
	bool moved;

	if (b != heap_last(a) || !extend(a, s - b->size, &extra, &moved))
		return false;
	block_set_size(b, s + extra);
	index_split(a, b, s);
	return true;
}

void *core_realloc(struct arena *a, void *ptr, size_t size, size_t mmap_from)
{
	struct block_meta *b = block_of(ptr), *n;
	size_t s;

	if (b->status == STATUS_FREE)
		return NULL;                                  /* rule 18 */
	if (size > CORE_MAX_REQUEST)
		return core_nomem();
	s = ALIGN8(size);
	if (b->status == STATUS_MAPPED || s + HDR >= mmap_from)
		return realloc_move(a, b, s, mmap_from);      /* rule 19 */
	if (s <= b->size) {
		index_split(a, b, s);                         /* rule 20 */
		return block_payload(b);
	}
	if (grow_last(a, b, s))                               /* rule 21.1 */
		return block_payload(b);
	if ((n = block_succ(b)) && n->status == STATUS_FREE) {   /* rule 21.2: merged eagerly, so one */
		index_absorb_next(a, b);
		if (b->size >= s) {
			index_split(a, b, s);
			return block_payload(b);
		}
		if (grow_last(a, b, s))                       /* rule 21.3 */
			return block_payload(b);
	}
	return realloc_move(a, b, s, mmap_from);              /* rule 21.4 */
}

EXPORT void *os_realloc(void *ptr, size_t size)
{
	void *p;

	if (!ptr)
		return os_malloc(size);                       /* rule 16 */
	if (size == 0) {
		os_free(ptr);                                 /* rule 17 */
		return NULL;
	}
	if (debug_checks)
		debug_check("os_realloc");
	if (block_of(ptr)->status == STATUS_ALLOC)
		trusted(block_of(ptr), "os_realloc");
	p = core_realloc(&arena_main, ptr, size, OSMEM_THRESHOLD);
	if (debug_checks)
		debug_check("os_realloc");
	return p;
}
