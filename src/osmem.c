/* The os_* API: SPEC part 1, rule by rule. Single-threaded by design; the
 * drop-in layer serialises callers. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "osmem.h"

#define EXPORT __attribute__((visibility("default")))

/* Requests above this cannot be served by any mapping: refuse them without a
 * syscall, which also keeps s + HDR and page rounding from overflowing. */
#define MAX_REQUEST ((size_t)PTRDIFF_MAX - (1UL << 24))

static const bool debug_checks = OSMEM_DEBUG;

static void debug_check(const char *call)
{
	char msg[256];

	if (check_heap(msg, sizeof msg) != 0)
		diag_die("osmem: heap corrupted (found in %s): %s\n", call, msg);
}

size_t core_grow_pad;

/* Grows the break by need bytes, plus core_grow_pad when that is granted
 * (*extra tells how much more came). */
static char *extend(size_t need, size_t *extra, bool *moved)
{
	char *at;

	*extra = core_grow_pad;
	if (*extra) {
		at = heap_extend(need + *extra, moved);
		if (at || *moved)
			return at;
	}
	*extra = 0;
	return heap_extend(need, moved);
}

/* Rules 11.5 and 11.6: no free block fits, so grow at the break. NULL when
 * the break could not be grown in place (*moved: see heap_extend). */
static struct block_meta *grow_top(size_t s, bool *moved)
{
	struct block_meta *last = heap_last(), *b;
	size_t extra;
	char *at;

	if (last && last->status == STATUS_FREE) {
		if (!extend(s - last->size, &extra, moved))
			return NULL;
		index_take(last);
		last->size = s + extra;
		index_split(last, s);
		return last;
	}
	at = extend(s + HDR, &extra, moved);
	if (!at)
		return NULL;
	b = (struct block_meta *)at;
	block_init(b, s + extra, STATUS_ALLOC, BLOCK_LAST, last, NULL);
	if (last)
		*block_tag(last) &= ~BLOCK_LAST;
	heap_set_last(b);
	index_split(b, s);
	return b;
}

/* Rule 11, the heap algorithm, for an aligned size s. */
struct block_meta *core_heap_alloc(size_t s)
{
	struct block_meta *b;

	if (!heap_started())
		heap_first_use();
	for (int tries = 0;; ) {
		bool moved;

		b = index_take_fit(s);
		if (b) {
			index_split(b, s);
			return b;
		}
		b = grow_top(s, &moved);
		if (b)
			return b;
		/* The break was moved under us: a new top segment now holds what
		 * brk gave; try again, but not forever if it keeps moving. */
		if (moved && ++tries < 8)
			continue;
		if (!heap_add_mapped_segment(s))
			return NULL;
	}
}

struct block_meta *core_alloc(size_t s, size_t mmap_from)
{
	return s + HDR >= mmap_from ? map_block(s) : core_heap_alloc(s);
}

void *core_nomem(void)
{
	errno = ENOMEM;
	return NULL;
}

size_t core_max_request(void)
{
	return MAX_REQUEST;
}

EXPORT void *os_malloc(size_t size)
{
	struct block_meta *b;

	if (debug_checks)
		debug_check("os_malloc");
	if (size == 0)
		return NULL;
	if (size > MAX_REQUEST)
		return core_nomem();
	b = core_alloc(ALIGN8(size), OSMEM_THRESHOLD);
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
	if (__builtin_mul_overflow(nmemb, size, &total) || total > MAX_REQUEST)
		return core_nomem();
	/* Rule 14: from a page up, a fresh mapping is already zero. */
	b = core_alloc(ALIGN8(total), (size_t)getpagesize());
	if (!b)
		return core_nomem();
	if (b->status != STATUS_MAPPED)
		memset(block_payload(b), 0, b->size);
	if (debug_checks)
		debug_check("os_calloc");
	return block_payload(b);
}

EXPORT void os_free(void *ptr)
{
	struct block_meta *b;

	if (debug_checks)
		debug_check("os_free");
	if (!ptr)
		return;
	b = block_of(ptr);
	if (b->status == STATUS_MAPPED)
		map_release(b);
	else if (b->status == STATUS_ALLOC)
		index_release(b);
	if (debug_checks)
		debug_check("os_free");
}

/* Rule 19 and 21.4: a new block, the data copied, the old block freed. */
static void *realloc_move(struct block_meta *b, size_t s, size_t mmap_from)
{
	struct block_meta *nb = core_alloc(s, mmap_from);

	if (!nb)
		return core_nomem();
	memcpy(block_payload(nb), block_payload(b), b->size < s ? b->size : s);
	if (b->status == STATUS_MAPPED)
		map_release(b);
	else
		index_release(b);
	return block_payload(nb);
}

/* Rule 21.1: the last block grows with the break. */
static bool grow_last(struct block_meta *b, size_t s)
{
	size_t extra;
	bool moved;

	if (b != heap_last() || !extend(s - b->size, &extra, &moved))
		return false;
	b->size = s + extra;
	index_split(b, s);
	return true;
}

void *core_realloc(void *ptr, size_t size, size_t mmap_from)
{
	struct block_meta *b = block_of(ptr);
	size_t s;

	if (b->status == STATUS_FREE)
		return NULL;                                  /* rule 18 */
	if (size > MAX_REQUEST)
		return core_nomem();
	s = ALIGN8(size);
	if (b->status == STATUS_MAPPED || s + HDR >= mmap_from)
		return realloc_move(b, s, mmap_from);         /* rule 19 */
	if (s <= b->size) {
		index_split(b, s);                            /* rule 20 */
		return block_payload(b);
	}
	if (grow_last(b, s))                                  /* rule 21.1 */
		return block_payload(b);
	if (block_succ(b) && block_succ(b)->status == STATUS_FREE) {   /* rule 21.2: merged eagerly, so one */
		index_absorb_next(b);
		if (b->size >= s) {
			index_split(b, s);
			return block_payload(b);
		}
		if (grow_last(b, s))                          /* rule 21.3 */
			return block_payload(b);
	}
	return realloc_move(b, s, mmap_from);                 /* rule 21.4 */
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
	p = core_realloc(ptr, size, OSMEM_THRESHOLD);
	if (debug_checks)
		debug_check("os_realloc");
	return p;
}
