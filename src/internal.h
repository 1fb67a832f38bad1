/* Internal interfaces of the core, grouped by the file that owns them.
 * Nothing here is exported from libosmem.so (-fvisibility=hidden). */
#ifndef OSMEM_INTERNAL_H
#define OSMEM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "block_meta.h"
#include "config.h"

/* Everything declared here is the library's own (-fvisibility=hidden only
 * marks definitions): a reference from another file then needs no GOT. */
#pragma GCC visibility push(hidden)

/* Thread-locals in the initial-exec model: the dynamic model's __tls_get_addr
 * may call malloc. A few words in all (the thread cache is reached through a
 * pointer): dlopen finds room for them in glibc's spare static TLS. */
#define TLS_IE __thread __attribute__((tls_model("initial-exec")))

#define HDR      sizeof(struct block_meta)
#define ALIGN8(n) (((n) + 7) & ~(size_t)7)
#define ALIGN16(n) (((n) + 15) & ~(size_t)15)
#define MIN_SPLIT (HDR + 8)   /* SPEC rule 12: a remainder needs a header and 8 bytes */

_Static_assert(sizeof(struct block_meta) == 32, "SPEC rule 1: the header is 32 bytes");
_Static_assert(offsetof(struct block_meta, status) == 8, "status at 8");
_Static_assert(offsetof(struct block_meta, prev) == 16, "prev at 16: 4 bytes of padding after status");
_Static_assert(offsetof(struct block_meta, next) == 24, "next at 24");
_Static_assert(HDR % 16 == 0, "the header keeps 16-byte payload alignment");

/* ---- helpers on struct block_meta (inline; block_succ lives in index.c) ---- */

/* The 4 padding bytes after status hold a tag: a magic value in the high 24 bits
 * (so a pointer osmem never handed out is recognised cheaply) and flags below. */
#define BLOCK_MAGIC     0x6f736d00u   /* "osm" */
#define BLOCK_MAGIC_MASK 0xffffff00u
#define BLOCK_LAST      0x1u          /* heap block (ALLOC or FREE) that ends its segment */
#define BLOCK_PROXY     0x2u          /* header in front of an over-aligned payload inside a
					 mapped block; prev is that block (align.c) */
#define BLOCK_CLEAN     0x4u          /* FREE block whose whole inner pages went back (heap.c:
					 purged); cleared when it is taken, merged or split */
#define BLOCK_PENDING   0x8u          /* FREE block on the index's pending list, not yet in a bin */
#define BLOCK_AGED      0x40u         /* FREE block a decay pass has seen (heap_decay): the
					 next pass purges it if it is still free as it was */
#define BLOCK_SLAB      0x10u         /* ALLOC block holding a slab of small objects (slab.c) */
#define BLOCK_GROWN     0x20u         /* MAPPED block the drop-in's realloc made or resized */
#define BLOCK_DEAD      0x80u         /* a header merged into the block before it: now payload,
					 kept recognisable so a second free of it is reported */
#define BLOCK_NOT_PLAIN (BLOCK_PROXY | BLOCK_SLAB | BLOCK_DEAD)
#define BLOCK_FREE_ONLY (BLOCK_PENDING | BLOCK_CLEAN | BLOCK_AGED)   /* never on a block in use */

static inline uint32_t *block_tag(struct block_meta *b)
{
	return (uint32_t *)((char *)b + offsetof(struct block_meta, status) + sizeof(int));
}

static inline void *block_payload(struct block_meta *b) { return (char *)b + HDR; }

static inline struct block_meta *block_of(void *p) { return (struct block_meta *)((char *)p - HDR); }
static inline char *block_end(struct block_meta *b) { return (char *)b + HDR + b->size; }
/* The magic a header's tag holds above its flags. A heap block in use
 * holds instead a keyed hash of its address and size (issue 12): a size an
 * overflow changed, or a header copied elsewhere, no longer matches, which
 * the drop-in checks without reading any other header (a thread cache
 * taking the block). Free and dead headers hold BLOCK_MAGIC; mapped blocks
 * their own seal (map.c), proxies BLOCK_MAGIC. */
extern uintptr_t link_secret;
static inline uint32_t block_magic(const struct block_meta *b, int status, size_t size, uint32_t tag)
{
	uint64_t h;

	if (status != STATUS_ALLOC || (tag & BLOCK_DEAD))
		return BLOCK_MAGIC;
	h = (((uintptr_t)b ^ link_secret) * 0x9e3779b97f4a7c15ULL ^ size) * 0xff51afd7ed558ccdULL;
	return (uint32_t)(h >> 32) & BLOCK_MAGIC_MASK;
}

/* Writes a whole header: every block osmem makes starts here. */
static inline void block_init(struct block_meta *b, size_t size, int status, uint32_t flags,
			      struct block_meta *prev, struct block_meta *next)
{
	b->size = size;
	b->status = status;
	*block_tag(b) = block_magic(b, status, size, flags) | flags;
	b->prev = prev;
	b->next = next;
}

/* A block's size changes: its tag follows. */
static inline void block_set_size(struct block_meta *b, size_t size)
{
	uint32_t flags = *block_tag(b) & ~BLOCK_MAGIC_MASK;

	b->size = size;
	*block_tag(b) = block_magic(b, b->status, size, flags) | flags;
}

/* Where a payload of s bytes aligned to align can start inside heap block b:
 * at b's own payload, or far enough in to leave a FREE block of a header and
 * 16 bytes in front; NULL if it does not fit. */
static inline char *block_align_in(struct block_meta *b, size_t s, size_t align)
{
	char *p = block_payload(b), *a = p;

	if ((uintptr_t)p % align)
		a = (char *)(((uintptr_t)p + HDR + 16 + align - 1) & ~(uintptr_t)(align - 1));
	return a + s <= block_end(b) ? a : NULL;
}

static inline bool block_tag_ok(struct block_meta *b)
{
	uint32_t tag = *block_tag(b);

	return (tag & BLOCK_MAGIC_MASK) == block_magic(b, b->status, b->size, tag);
}

/* Physical successor of a heap block: no header records it, the size and
 * BLOCK_LAST say it (so that next is free for the index); NULL at the end of
 * its segment. */
static inline struct block_meta *block_succ(struct block_meta *b)
{
	return (*block_tag(b) & BLOCK_LAST) ? NULL : (struct block_meta *)block_end(b);
}

/* ---- the arena: everything the core keeps about one heap ---- */

/* A heap segment is a run of contiguous blocks. The first one starts at the
 * initial break; others come from brk after a foreign move of the break, or
 * from mmap when brk fails. Each block's prev/next stay inside its segment. */
struct segment {
	struct segment *next;
	char *base;                 /* first block header */
	char *end;                  /* one past the last block */
	struct block_meta *tail_prev;   /* while the last block is FREE: its physical
					   predecessor (index.c; no header follows it) */
};
_Static_assert(sizeof(struct segment) <= HDR, "a segment record fits in one header's room");

/* Counted as the syscalls are made: an arena's by heap.c (brk, and the heap
 * bytes), the process's mappings by map.c (map_counters). */
struct counters {
	size_t brk_calls, mmap_calls, munmap_calls, mremap_calls, mprotect_calls;
	size_t heap_bytes, heap_peak;       /* memory in heap segments */
	size_t mapped_bytes, mapped_peak;   /* mapped blocks, headers included */
	/* The drop-in's giving back (interpose/arena.c): bytes of free memory
	 * returned to the system (a top trimmed, pages purged), and the trims
	 * and passes that returned any. */
	size_t returned_bytes, returns;
};
static inline void stats_grew(size_t *now, size_t *peak, size_t by)
{
	*now += by;
	if (*now > *peak)
		*peak = *now;
}

/* The free index's bins (index.c): one per 8 bytes up to OSMEM_EXACT_MAX, one
 * per 16 up to OSMEM_LIST_MAX, then 4 per power of two. */
#define INDEX_NEXACT   (OSMEM_EXACT_MAX / 8)
#define INDEX_NMID     ((OSMEM_LIST_MAX - OSMEM_EXACT_MAX) / 16)
#define INDEX_LOG_FROM 13
#define INDEX_NBINS    (INDEX_NEXACT + INDEX_NMID + 4 * (64 - INDEX_LOG_FROM))
#define INDEX_NWORDS   ((INDEX_NBINS + 63) / 64)

struct index {
	struct block_meta *bins[INDEX_NBINS];
	uint64_t nonempty[INDEX_NWORDS];    /* bit i: bins[i] is not empty */
	struct block_meta *pending;         /* freed blocks not yet filed */
	size_t nfree;                       /* in bins and pending */
	size_t npending;
	bool lists;                         /* the small bins are LIFO lists (the drop-in) */
	/* The block taken last, and its BLOCK_AGED and BLOCK_CLEAN while it was
	 * free: what is split off it again has its pages, so keeps them. */
	struct block_meta *taken;
	uint32_t taken_flags;
	size_t dirt;     /* bytes used since purged inside blocks still called clean (index.c) */
};

struct heap {
	struct segment *segs;       /* newest first; read without the lock by the drop-in */
	struct segment *top;        /* the segment that grows (with brk, or in its region), or NULL */
	struct block_meta *top_last;
	struct segment first;       /* the record of the segment at the initial break */
	bool started;
	bool regions;               /* grows in reserved regions (heap_new_arena), never with brk */
	struct segment *hint;       /* the segment heap_segment_of_slow found last (never freed:
				       only regions' segments go, and they are found by address) */
	struct region *home;        /* regions: the first, which holds the arena and stays */
};

#define SLAB_CLASSES 16         /* slab.c: object sizes 16..256, every 16 bytes */

/* Every core function takes the arena it works on; os_* use arena_main. */
struct arena {
	struct index idx;           /* index.c */
	struct heap heap;           /* heap.c */
	struct slab *partial[SLAB_CLASSES];   /* slab.c: per class, slabs with a free object */
	unsigned fronts;            /* slab.c: slabs with a front (slab_take_front), all on those lists */
	unsigned slabs[SLAB_CLASSES];   /* slab.c: per class, its slabs (slab_new makes more at once past 8) */
	struct counters counters;   /* heap.c and map.c, for this arena */
	size_t grow_pad;            /* bytes each growth of the heap asks for beyond the need:
				       0 for os_* (SPEC rule 11), OSMEM_GROW_PAD in the drop-in */
	/* A block realloc moves into a new mapping has the pages its copy
	 * writes populated first (map_populate): the drop-in's; os_* keep
	 * SPEC's exact traces. */
	bool populate_moves;
	/* Damage was found in its structures (issue 12): with
	 * OSMEM_ABORT_ON_ERROR=0 the drop-in never uses it again. */
	bool damaged;
	/* Blocks other threads freed, linked through their first payload word,
	 * for the arena's own thread to take back: pushed without its lock, by
	 * any thread, so on a cache line of its own: a push does not take the
	 * line of the lock and the fields the owner uses away from it. */
	void *remote __attribute__((aligned(64)));
	/* The drop-in's (interpose/arena.c): */
	int lock __attribute__((aligned(64)));   /* 0 free, 1 taken, 2 taken and maybe waited for (arena_lock_*) */
	struct arena *next;         /* every arena, arena_main first */
	unsigned id;                /* 0: arena_main */
	unsigned threads;           /* threads bound to it */
	uint64_t top_over_since;    /* ms its free top has been over the trim threshold (0: not) */
	size_t trimmed_to;          /* its heap's size after its last trim, of any kind (0: none) */
	/* Decay (arena.c): memory freed into it that a pass has not given back yet; the
	 * calls into it, counted between two looks at the clock; when (ms) its next pass
	 * may run, half a window after the last. */
	bool dirty;
	unsigned decay_ticks;
	uint64_t decay_at;
};

extern struct arena arena_main;
_Static_assert(offsetof(struct arena, remote) % 64 == 0 &&
	       offsetof(struct arena, lock) == offsetof(struct arena, remote) + 64,
	       "remote has its cache line to itself: other threads' pushes leave the lock's alone");

/* ---- map.c: owns mmap, munmap, mremap and mprotect ---- */

extern void *(*map_mmap_fn)(void *, size_t, int, int, int, off_t);
extern int (*map_munmap_fn)(void *, size_t);

struct block_meta *map_block(size_t s);          /* a MAPPED block of payload s, or NULL */
/* Unlinks b and unmaps it. false when munmap refused for lack of map
 * entries (vm.max_map_count): b stays mapped but is no longer listed (lost
 * memory, as glibc leaves it), errno unchanged. Any other failure dies. */
bool map_release(struct block_meta *b);
/* The drop-in's realloc of a mapped block to payload s: its size becomes
 * map_capacity(s), by mremap (it may move) unless the pages stay the same;
 * NULL with ENOMEM, b untouched, when refused. Never used by os_*. */
struct block_meta *map_resize(struct block_meta *b, size_t s);
size_t map_capacity(size_t s);                   /* payload a mapping for payload s holds: whole pages */
void *map_region(size_t len);                    /* anonymous RW memory, or NULL */
void map_region_release(void *p, size_t len);
struct block_meta *map_blocks(void);             /* list of live MAPPED blocks (walk it under map_lock) */
size_t map_count(void);
/* What b, a page-aligned header, is: a live mapped block (its seal and list
 * links agree), one of ours whose header was changed, or not ours. */
enum map_state { MAP_NOT_OURS, MAP_LIVE, MAP_DAMAGED };
enum map_state map_state_of(struct block_meta *b);
bool map_sealed_locked(const struct block_meta *b);   /* the checker's, under map_lock */
void map_lock(void);                             /* the list's lock: for walkers and fork */
void map_unlock(void);
void map_fork_child(void);
extern struct counters map_counters;             /* mmap, munmap, mremap, mprotect; mapped bytes */

/* The other arenas' memory: regions of MAP_REGION bytes at a MAP_REGION
 * boundary, reserved without access and committed as the heap in them grows,
 * so a pointer's arena is found from its address alone (map_region_of). */
#define MAP_REGION_SHIFT 26                      /* 64 MiB */
#define MAP_REGION       (1UL << MAP_REGION_SHIFT)
void *map_reserve(void);                         /* an aligned region, or NULL */
void map_unreserve(void *base);
bool map_commit(void *p, size_t len);            /* make [p, p + len) usable */
void map_decommit(void *p, size_t len);          /* give its pages back, reserved again */
void map_purge(void *p, size_t len);             /* drop its pages, still usable (zero again) */
/* n rounded up, and down, to the system's page size (what mmap, mprotect
 * and madvise work in). */
static inline size_t page_up(size_t n)
{
	size_t page = (size_t)getpagesize();

	return (n + page - 1) & ~(page - 1);
}
static inline size_t page_down(size_t n)
{
	return n & ~((size_t)getpagesize() - 1);
}
/* Fault in the pages of [p, p + len) at once, writable, in one call: the
 * pages a copy is about to write, without a fault for each. */
void map_populate(void *p, size_t len);
extern uint64_t map_region_bits[];
/* The reserved region holding p, or NULL: O(1), without touching p. */
static inline void *map_region_of(const void *p)
{
	uintptr_t i = (uintptr_t)p >> MAP_REGION_SHIFT;

	if (i >= (1UL << (47 - MAP_REGION_SHIFT)) ||
	    !(__atomic_load_n(&map_region_bits[i / 64], __ATOMIC_ACQUIRE) >> (i % 64) & 1))
		return NULL;
	return (void *)(i << MAP_REGION_SHIFT);
}

/* ---- heap.c: owns brk/sbrk and the list of heap segments ---- */

extern void *(*heap_sbrk_fn)(intptr_t delta);   /* test seam: sbrk */

/* What starts each region: which arena it serves and its one segment. */
struct region {
	struct arena *arena;
	char *committed;            /* usable up to here; the segment's end stays below */
	char *pad;
	struct segment seg;
};

static inline struct segment *heap_top(struct arena *a) { return a->heap.top; }
/* The last block of the top segment (the one the break grows), or NULL. */
static inline struct block_meta *heap_last(struct arena *a) { return a->heap.top ? a->heap.top_last : NULL; }
void heap_first_use(struct arena *a);            /* once: sbrk(PREALLOC), one FREE block */
/* Grow the top segment by delta bytes in place; returns its old end or NULL.
 * When the break had been moved by someone else (or there was no top), the
 * memory brk gave becomes a new top segment, its block FREE in the index, and
 * NULL comes back with *moved set: the caller retries. NULL with *moved clear:
 * brk refused. */
char *heap_extend(struct arena *a, size_t delta, bool *moved);
/* A new heap segment from mmap holding at least `need` payload bytes in one
 * FREE block, inserted into the index; false when mmap fails too. */
bool heap_add_mapped_segment(struct arena *a, size_t need);
struct segment *heap_segment_of_slow(struct arena *a, const void *addr);
/* a's segment holding addr in O(1), looked for in a's first region only
 * (by its address) where home_only says so, else in any of a's regions
 * (by the bitmap); with no regions in its newest segment. */
static inline struct segment *heap_segment_in(struct arena *a, const void *addr, bool home_only)
{
	struct segment *g;

	if (a->heap.regions) {
		/* The arena's first region by its address alone; others by the bitmap. */
		struct region *r = (struct region *)((uintptr_t)addr & ~(MAP_REGION - 1));

		if (r != a->heap.home && (home_only || !(r = map_region_of(addr)) || r->arena != a))
			return NULL;
		g = &r->seg;
		return (const char *)addr >= g->base && (const char *)addr < g->end ? g : NULL;
	}
	g = __atomic_load_n(&a->heap.segs, __ATOMIC_ACQUIRE);
	return g && (const char *)addr >= g->base && (const char *)addr < g->end ? g : NULL;
}
/* heap_segment_of in O(1): NULL also where a (with no regions) has older
 * segments and addr may lie in one of them. */
static inline struct segment *heap_segment_near(struct arena *a, const void *addr)
{
	return heap_segment_in(a, addr, false);
}
/* The same without the bitmap: NULL unless addr lies in a's first region
 * (or, with no regions, its newest segment). For a first look whose miss
 * costs a second look anyway. */
static inline struct segment *heap_segment_home(struct arena *a, const void *addr)
{
	return heap_segment_in(a, addr, true);
}
/* a's segment holding addr, NULL if none: O(#segments), the newest checked inline. */
static inline struct segment *heap_segment_of(struct arena *a, const void *addr)
{
	struct segment *g = heap_segment_near(a, addr);

	if (g || a->heap.regions || !__atomic_load_n(&a->heap.segs, __ATOMIC_RELAXED))
		return g;
	return heap_segment_of_slow(a, addr);
}
/* malloc_trim: give the free top of the heap back, keeping pad bytes, and
 * (regions) every other region that holds nothing; true if any. */
bool heap_trim(struct arena *a, size_t pad);
/* The drop-in's: the whole pages inside every FREE block of at least min
 * bytes go back to the system (they read as zero when used again); the
 * headers stay. Returns the bytes given back. Never used by os_* (SPEC rule
 * 15a keeps a freed block's bytes). */
size_t heap_purge(struct arena *a, size_t min);
/* The same for FREE block b alone (if it has min bytes): for a free into an
 * arena whose memory no thread will take again soon. */
size_t heap_purge_block(struct block_meta *b, size_t min);
/* One pass of the drop-in's decay over the FREE blocks of at least min
 * bytes: those the last pass saw (BLOCK_AGED) and nothing has taken,
 * merged or split since are purged, as heap_purge does, or become the
 * front of the slab after them (slab_take_front) and are purged whole; the
 * rest are marked for the next pass. Returns the bytes given back; *left
 * counts the blocks marked, which the next pass will purge if they stay. A
 * purged block is skipped until it changes (BLOCK_CLEAN), unless a slab
 * follows it. */
size_t heap_decay(struct arena *a, size_t min, size_t *left);

/* An arena other than arena_main: its heap grows in regions of its own
 * (map_reserve), committed OSMEM_ARENA_COMMIT at a time. The struct sits in
 * its first region; NULL when no region can be had. */
struct arena *heap_new_arena(void);
/* The arena that owns heap address p: the one whose region holds it, else
 * arena_main. O(1), without touching p. */
static inline struct arena *heap_arena_of(const void *p)
{
	struct region *r = map_region_of(p);

	return r ? r->arena : &arena_main;
}

/* ---- index.c: the free-block index and the split/merge operations ---- */

/* a->idx.lists, set by the drop-in before its first block: bins up to
 * OSMEM_LIST_MAX become O(1) LIFO lists, dropping the lowest-address tie-break
 * (os_* keep it). */
void index_insert(struct arena *a, struct block_meta *b);          /* O(1): filed into its bin at the next search */
/* Take a FREE block out of the index and mark it ALLOC. */
void index_take(struct arena *a, struct block_meta *b);
/* Take a FREE block out of the index: it stays FREE, its prev physical again. */
void index_remove(struct arena *a, struct block_meta *b);
/* Best fit, taken out of the index and marked ALLOC: the FREE block of
 * smallest size >= s, lowest address on a tie; NULL if none fits. */
struct block_meta *index_take_fit(struct arena *a, size_t s);
bool index_contains(struct arena *a, struct block_meta *b);
/* A FREE block (left in the index) that holds a payload of s bytes aligned to
 * align, looking at up to max_scan blocks of the list bins from s up; NULL if
 * none (or the bins are treaps). Reuses the holes that slabs leave. */
struct block_meta *index_find_aligned(struct arena *a, size_t s, size_t align, unsigned max_scan);
/* Split b (not in the index) down to s if the remainder is at least MIN_SPLIT;
 * the remainder becomes FREE, merged with a FREE successor, and indexed. */
void index_split(struct arena *a, struct block_meta *b, size_t s);
/* Cuts the ALLOC heap block b at `at` (a header's place inside its payload,
 * leaving b at least 8 bytes): the part from `at` on becomes a new ALLOC block
 * after b, returned; b keeps what lies before. */
struct block_meta *index_carve(struct arena *a, struct block_meta *b, char *at);
/* Absorb b's FREE successor (removing it from the index) into b. */
void index_absorb_next(struct arena *a, struct block_meta *b);
/* FREE block f leaves the index and becomes the front of its successor, an
 * ALLOC block, whose header moves to f's place (the old one becomes payload,
 * BLOCK_DEAD): the merged block, returned. */
struct block_meta *index_give_to_next(struct arena *a, struct block_meta *f);
/* The reverse: ALLOC block b is cut at `at` (a header's place inside its
 * payload); the part from there on stays ALLOC with b's flags; b's part
 * becomes FREE (its pages as kept says: BLOCK_AGED, BLOCK_CLEAN), merged
 * with a FREE predecessor, and indexed: that free block, returned. */
struct block_meta *index_take_front(struct arena *a, struct block_meta *b, char *at, uint32_t kept);
/* Mark b FREE, merge it with FREE neighbours, index the result. */
struct block_meta *index_release(struct arena *a, struct block_meta *b);
/* The physical predecessor of heap block b, NULL for a segment's first: b's
 * prev, or for a FREE block in the index, where it keeps it instead. */
struct block_meta *index_pred(struct arena *a, struct block_meta *b);
int index_check(struct arena *a, char *msg, size_t len);          /* the index's own invariants */
/* fn(a, b, arg) for each FREE block b of at least min bytes, and more than
 * OSMEM_LIST_MAX (the treap bins), pending blocks filed first; fn leaves the
 * index as it is. */
void index_each_large(struct arena *a, size_t min, void (*fn)(struct arena *, struct block_meta *, void *), void *arg);

/* ---- osmem.c: the os_* entry points and the heap algorithm ---- */

/* Rule 11 for an aligned size; NULL when out of memory. */
struct block_meta *core_heap_alloc(struct arena *a, size_t s);
/* The drop-in's, NULL for os_*: before a's heap grows, the heap blocks of a
 * that the calling thread's cache holds go back into a, whose lock it
 * holds, and merge (true if any did), so that the heap grows only where
 * its free blocks cannot serve the request with those among them. */
extern bool (*core_before_grow)(struct arena *a);
/* A block of aligned size s: mapped from s + HDR >= mmap_from up, else the
 * heap. os_malloc uses OSMEM_THRESHOLD (SPEC); the drop-in its own. */
struct block_meta *core_alloc(struct arena *a, size_t s, size_t mmap_from);
/* os_realloc's rules 18-22 of a live block of a, with that threshold. */
void *core_realloc(struct arena *a, void *ptr, size_t size, size_t mmap_from);
/* Requests above this cannot be served by any mapping: they fail without a
 * syscall, which also keeps s + HDR and page rounding from overflowing. */
#define CORE_MAX_REQUEST ((size_t)PTRDIFF_MAX - (1UL << 24))
static inline size_t core_max_request(void) { return CORE_MAX_REQUEST; }
/* A live heap block or slab object of a, freed by a thread that does not
 * hold a's lock: onto a's remote list, lock-free. Its first word is the
 * link, stored mangled (core_link_mangle): a use after free that writes a
 * chosen address there makes the list fail its checks, never leads it there. */
void core_remote_push(struct arena *a, void *p);
/* The same for a chain already linked (core_link_mangle) from first to
 * last, whose last link is set here: one compare-and-swap for them all. */
void core_remote_push_chain(struct arena *a, void *first, void *last);
/* A link kept in a freed payload, as stored in the word at `at`: XORed with
 * a per-process secret and the word's own address, so that what a program
 * writes there decodes to a pointer that fails the follower's checks. */
static inline uintptr_t core_link_mangle(void *at, void *link)
{
	return (uintptr_t)link ^ (uintptr_t)at ^ link_secret;
}
static inline void *core_link_next(void *at)
{
	return (void *)(*(uintptr_t *)at ^ (uintptr_t)at ^ link_secret);
}
/* The whole remote list, newest first (NULL if empty); for a's lock holder. */
void *core_remote_take(struct arena *a);
void *core_nomem(void);                          /* errno = ENOMEM; NULL */
/* Damage met inside a's structures (issue 12): a is out of service, one line
 * "osmem: CALL(): corrupted WHAT at P: DETAIL", then abort or the drop-in's
 * recovery point (diag_unwind). Never returns. */
_Noreturn void core_corrupt(struct arena *a, const char *what, const void *p, const char *detail);

/* ---- align.c: payloads aligned beyond 16 ---- */

/* align is a power of two above 16; the result is freed like any block. */
void *align_alloc(struct arena *a, size_t align, size_t size);

/* ---- slab.c: header-free small objects, for the drop-in (never os_*) ---- */

#define SLAB_PAGE    4096UL
#define SLAB_BYTES   (SLAB_PAGE - HDR)   /* a slab's payload: slabs tile the heap page by page */
#define SLAB_MAX     256UL               /* largest object size; classes every 16 bytes */
_Static_assert(SLAB_CLASSES == SLAB_MAX / 16, "one slab class per 16 bytes");
#define SLAB_WORDS   4
#define SLAB_AHEAD   7                   /* empty slabs a class's new slab may bring beside it (slab.c) */
#define SLAB_HDR     64UL

struct slab {
	uintptr_t check;             /* the slab's own address ^ slab_key(its arena) */
	struct slab *prev, *next;    /* its class's list of slabs with a free object */
	uint16_t size, nfree;
	uint8_t cap;
	uint8_t cls;                 /* size / 16 - 1: slab_inverse's index */
	uint16_t front;              /* 16-byte units of its block before it (slab_take_front) */
	uint64_t free[SLAB_WORDS];   /* bit i set: object i is free */
};
_Static_assert((SLAB_BYTES - SLAB_HDR) / 16 <= UINT8_MAX, "a slab's count of objects fits its byte");

extern uintptr_t slab_secret;
void slab_init(void);                            /* draws the secrets (slabs', links'): once, before either is used */
/* What a slab of a's check word holds beside its address: a page that
 * passes for a slab names its arena, so the drop-in's free compares one
 * word with the key its thread keeps for its own arena (never 0: the secret
 * is odd, an arena's address even). */
static inline uintptr_t slab_key(const struct arena *a)
{
	return slab_secret ^ (uintptr_t)a;
}
/* The page of p, which holds p if p is a slab object. */
static inline struct slab *slab_page(const void *p)
{
	return (struct slab *)((uintptr_t)p & ~(uintptr_t)(SLAB_PAGE - 1));
}
/* The heap block that holds slab s: its payload starts at s, or front
 * units before it. */
static inline struct block_meta *slab_block(const struct slab *s)
{
	return block_of((char *)s - (size_t)s->front * 16);
}
/* The slab a BLOCK_SLAB heap block holds: on the page where its payload
 * ends, whatever front lies before it. */
static inline struct slab *slab_of_block(struct block_meta *b)
{
	return (struct slab *)page_down((uintptr_t)block_end(b) - SLAB_BYTES);
}
/* The arena a slab's check word names (slab_of says whether it holds). */
static inline struct arena *slab_arena(const struct slab *s)
{
	return (struct arena *)(s->check ^ (uintptr_t)s ^ slab_secret);
}
/* The slab holding p, or NULL, where a is the arena whose heap holds p
 * (heap_arena_of(p): its page lies in the same region). */
static inline struct slab *slab_in(const void *p, const struct arena *a)
{
	struct slab *s = slab_page(p);

	if ((uintptr_t)p % SLAB_PAGE == 0 || slab_arena(s) != a)
		return NULL;
	return s;
}
/* The slab holding p, or NULL: p must lie in a readable page (any pointer
 * osmem handed out, or a foreign one that is not wild). The arena the
 * check word names must be the one whose heap holds the page. */
static inline struct slab *slab_of(const void *p)
{
	return slab_in(p, heap_arena_of(p));
}
void *slab_alloc(struct arena *a, size_t size);  /* size: 16..SLAB_MAX, a multiple of 16 */
/* Up to n more objects of size into v from the first slab of its class
 * that has room (no new slab): how many. */
unsigned slab_alloc_more(struct arena *a, size_t size, void **v, unsigned n);
/* Object index by multiplication: off * inverse >> 32 == off / size for every
 * off below a page (the rounding error stays under 1/size). */
extern const uint32_t slab_inverse[SLAB_CLASSES];
static inline int slab_index(const struct slab *s, const void *p)
{
	size_t off = (size_t)((const char *)p - (const char *)s) - SLAB_HDR;   /* wraps inside the header */
	unsigned i = (unsigned)((off * slab_inverse[s->cls % SLAB_CLASSES]) >> 32);

	/* No test of off against the page: past the last object i is cap or
	 * more (the inverse is exact below a page), and inside the header off
	 * wraps to far more than any i * size. */
	return i < s->cap && (size_t)i * s->size == off ? (int)i : -1;
}
enum slab_obj { SLAB_OBJ_LIVE, SLAB_OBJ_FREE, SLAB_OBJ_BAD };
/* Whether p is an object of s handed out (the lock not needed: a live
 * object's bit changes only when it is freed). */
static inline enum slab_obj slab_object(const struct slab *s, const void *p)
{
	int i = slab_index(s, p);
	unsigned u = (unsigned)i;   /* unsigned from here: no sign to extend in the word's index */

	if (i < 0)
		return SLAB_OBJ_BAD;
	return __atomic_load_n(&s->free[u / 64], __ATOMIC_RELAXED) >> (u % 64) & 1 ? SLAB_OBJ_FREE : SLAB_OBJ_LIVE;
}
void slab_free(struct arena *a, struct slab *s, void *p);   /* p: a live object of s, in a */
/* The objects of v, live and known to be objects (none checked again),
 * back while they are a's: how many from the first were. */
unsigned slab_free_many(struct arena *a, void *const *v, unsigned n);
void slab_trim(struct arena *a);                 /* empty slabs back to the heap */
/* Decay's: FREE block f, if the block after it is a slab of a's that can
 * take it as its front, that slab (f unchanged); else NULL. */
struct slab *slab_front_for(struct arena *a, struct block_meta *f);
/* f, for which slab_front_for said s, leaves the index and becomes s's
 * block's front: the page that holds s's header then holds nothing in use,
 * and every page from f's payload up to s can go back to the system. */
void slab_take_front(struct arena *a, struct block_meta *f, struct slab *s);
/* Fronts back into the index as free blocks (their pages still purged),
 * until one of need bytes is free: before the heap grows, so that a
 * program that allocates again reuses them instead of new address space.
 * False if a had none. */
bool slab_drop_fronts(struct arena *a, size_t need);
int slab_check(struct arena *a, struct block_meta *b, char *msg, size_t len);

/* ---- check.c: the invariant checker ---- */

/* Walks every segment, the index and the mapped list. Returns 0 when every
 * invariant holds; otherwise -1 with the first violation, one line, in msg. */
int check_heap(struct arena *a, char *msg, size_t len);

/* Whether heap block b of a (ALLOC or FREE) can be trusted (issue 12): in
 * its segment, status and tag agreeing, its size ending at a block that
 * names it as predecessor (or at the segment's end), its predecessor ending
 * where it starts. NULL, or what is wrong. O(1); safe on any b in a's heap.
 * A block in use whose seal (block_magic) holds has the size it was given:
 * then only its predecessor link is looked at. */
const char *check_block(struct arena *a, struct block_meta *b);
/* The full check, each step in turn, so that what it returns names the
 * first thing wrong (check_block tries a quick way first). Without start,
 * the predecessor is left out: enough to know that handing a FREE block out
 * overlaps nothing (its start is where a checked link led). */
const char *check_block_ends(struct arena *a, struct block_meta *b, bool start);

/* What a pointer handed to free/realloc is, decided without walking the heap:
 * the address must lie in a heap segment with a tagged header, or be a mapped
 * block linked in the mapped list (or a proxy in front of one). */
enum ptr_kind { PTR_HEAP, PTR_MAPPED, PTR_FREED, PTR_FOREIGN, PTR_DAMAGED /* a mapped block, header changed */ };
enum ptr_kind check_pointer(struct arena *a, const void *p);
/* The block that owns payload p (the mapped block behind a proxy). */
struct block_meta *check_owner(const void *p);

/* ---- stats.c: figures for mallinfo2, malloc_stats and OSMEM_STATS ---- */

struct heap_usage {
	size_t heap_bytes;      /* all heap segments, headers included */
	size_t in_use_bytes;    /* ALLOC payloads in the heap */
	size_t free_bytes;      /* FREE payloads in the heap */
	size_t free_blocks;
	size_t top_free;        /* FREE payload at the top of the brk heap (trimmable) */
	size_t mapped_bytes;    /* mapped blocks, headers included */
	size_t mapped_blocks;
	size_t segments;
	size_t largest_free;    /* largest FREE payload in the heap */
	size_t slabs;           /* slab blocks (their free objects count as free bytes) */
};
/* O(blocks), walks: add a's heap, or the process's mapped blocks, to u. */
void stats_usage(struct arena *a, struct heap_usage *u);
void stats_mapped(struct heap_usage *u);

/* ---- diag.c: messages without stdio or allocation ---- */

size_t diag_fmt(char *buf, size_t len, const char *fmt, ...);  /* %s %d %u %zu %x %p */
void diag_write(const char *msg);                               /* write(2) to stderr */
_Noreturn void diag_die(const char *fmt, ...);                  /* message, then abort */
/* Damage found in osmem's own structures (issue 12): the call that met it
 * (set by every entry point that may: os_* and the drop-in's), and whether
 * a report aborts (OSMEM_ABORT_ON_ERROR, the drop-in's; os_* always abort). */
extern TLS_IE const char *diag_call;
extern bool diag_abort;
/* One line, "osmem: CALL(): corrupted WHAT at P: DETAIL", then abort; or,
 * with diag_abort clear, back to the caller, which drops what is damaged. */
void diag_corrupt(const char *what, const void *p, const char *detail);
/* After such a report inside the core, whose structures are half changed:
 * to the drop-in's recovery point when it set one (OSMEM_ABORT_ON_ERROR=0),
 * else abort. */
typedef void *diag_jmp[5];   /* __builtin_setjmp's buffer: no libc call (nothing to fortify) */
extern TLS_IE diag_jmp *diag_recover;
_Noreturn void diag_unwind(void);

#pragma GCC visibility pop

#endif
