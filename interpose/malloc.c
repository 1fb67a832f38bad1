/* The drop-in's exports: glibc's malloc family over the core, with the
 * semantics of SPEC part 2. What they lean on has a file of its own: arenas,
 * threads and fork (arena.c), the thread cache (tcache.c), initialisation
 * and the bootstrap area (boot.c), misuse reports (misuse.c), mallopt and
 * the MALLOC_* variables (tune.c), the OSMEM_* switches (insight.c and
 * beside it). */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dropin.h"
#include "insight.h"
#include "osmem.h"
#include "system.h"

/* Every size the core sees from here is a multiple of 16 (SPEC rule 24) and
 * at least 16, so malloc(0) is unique. */
static inline size_t req(size_t n)
{
	return n ? ALIGN16(n) : 16;
}

/* The room of p, a live block from the core: its slab's class or its payload. */
static size_t raw_usable(void *p)
{
	struct slab *s = slab_of(p);

	return s ? s->size : block_of(p)->size;
}

/* What malloc_usable_size says: with OSMEM_CHECK, a guarded block's
 * requested size (the guard follows). */
static size_t usable(void *p)
{
	size_t n;

	if (boot_owns(p))
		return boot_size(p);
	if (backend_system)
		return sys.malloc_usable_size(p);
	if (insight_check && (n = guard_requested(p)) != SIZE_MAX)
		return n;
	return raw_usable(p);
}

/* The caller's arena for call, locked; with OSMEM_CHECK, the guard walk
 * first (outside any lock: reports never hold one), then the checker. */
static struct arena *enter_checked(const char *call, bool *held)
{
	struct arena *a;

	if (insight_check)
		guard_walk(call);
	a = arena_enter(held);
	if (insight_check)
		insight_check_heap(a, call);
	return a;
}

/* A block of size class r from a, locked: mapped from the threshold up (or
 * never, past M_MMAP_MAX mapped blocks), else a slab object up to SLAB_MAX
 * (a heap block when no slab can be had), else a heap block. */
static void *alloc_in(struct arena *a, size_t r)
{
	size_t from = map_count() < tune.mmap_max ? tune_mmap_from() : SIZE_MAX;
	struct block_meta *b;
	void *p;

	if (r <= SLAB_MAX && (p = slab_alloc(a, r))) {
		tc_refill(a, r);
		return p;
	}
	b = core_alloc(a, r, from);
	return b ? block_payload(b) : NULL;
}

/* size r from a: aligned to align beyond 16, else alloc_in's. */
static void *alloc_of(struct arena *a, size_t align, size_t r)
{
	return align ? align_alloc(a, align, r) : alloc_in(a, r);
}

/* alloc_of in the caller's arena; when that is out of room (its regions
 * cannot be had), arena_main, which also has the break. Where the core
 * finds an arena damaged (OSMEM_ABORT_ON_ERROR=0), again in the arena the
 * caller moves to. */
static inline void *alloc_plain(const char *call, size_t align, size_t r)
{
	bool held;
	struct arena *a = enter_checked(call, &held);
	void *p = alloc_of(a, align, r);

	arena_tick(a);
	arena_leave(a, held);
	if (!p && a != &arena_main && !arena_main.damaged) {
		held = arena_lock(&arena_main);
		p = alloc_of(&arena_main, align, r);
		arena_leave(&arena_main, held);
	}
	return p ? p : core_nomem();
}

static void *alloc_locked(const char *call, size_t align, size_t r);

/* OSMEM_ABORT_ON_ERROR=0: the same inside a recovery point. */
static __attribute__((noinline)) void *alloc_recoverable(const char *call, size_t align, size_t r)
{
	diag_jmp jb, *outer = diag_recover;
	void *p;

	diag_recover = &jb;
	if (__builtin_setjmp(jb)) {
		arena_recover(outer);
		return alloc_locked(call, align, r);
	}
	p = alloc_plain(call, align, r);
	diag_recover = outer;
	return p;
}

static void *alloc_locked(const char *call, size_t align, size_t r)
{
	diag_call = call;
	if (__builtin_expect(!diag_abort, 0))
		return alloc_recoverable(call, align, r);
	return alloc_plain(call, align, r);
}

/* Bytes to ask the core for a request of n: with OSMEM_CHECK, room for the guard. */
static inline size_t room(size_t n)
{
	return insight_check ? n + GUARD_MIN : n;
}

static void give_back(enum call c, void *p);

/* With OSMEM_CHECK: p, NULL or a block with room for n + GUARD_MIN bytes,
 * gets its guard after n. */
static void *guarded(size_t n, void *p)
{
	if (p && !guard_add(p, n, raw_usable(p), !slab_of(p))) {
		give_back(CALL_FREE, p);
		return core_nomem();
	}
	return p;
}

/* A block of size class r (a request's req) from the thread's cache, else
 * from its arena. */
static inline void *cache_or_arena(size_t r)
{
	void *p;

	if (__builtin_expect(!tc->tick, 0))
		tc_tick();
	/* An empty cache (a program building up its heap) is not searched.
	 * Damage met there (by decay, at a tick) is malloc's to report. */
	diag_call = "malloc";
	p = r <= TC_BIG_MAX && tc->bytes ? tc_get_fit(r) : NULL;
	return p ? p : alloc_locked("malloc", 0, r);
}

static void *alloc_core(size_t n)
{
	void *p;

	if (n > core_max_request())
		return core_nomem();
	p = cache_or_arena(req(room(n)));
	return insight_check ? guarded(n, p) : p;
}

/* ---- what the insight switches see (only while one is on) ---- */

static __attribute__((noinline)) void *observe_alloc(enum call c, const void *old, size_t old_usable,
						       size_t a, size_t b, void *p)
{
	insight_alloc(c, old, old_usable, a, b, p, p ? usable(p) : 0);
	return p;
}

/* p's page, s, is a slab of the thread's own arena: its check word matches
 * the key the thread keeps (slab_key: authentic, and the thread's, in one
 * comparison). The key names no arena while a switch is on (thread_key,
 * tcache.c) and before the thread's first free opens its cache. A page
 * start is no object (and free(NULL)'s page is not read). */
static inline bool own_slab(const void *p, const struct slab *s)
{
	return (uintptr_t)p % SLAB_PAGE && s->check == ((uintptr_t)s ^ tc->slab_key);
}

/* p, an address in slab s, is an object handed out and not freed since (one
 * in a thread cache or on a remote list is free). */
static inline bool small_live(const struct slab *s, const void *p)
{
	return slab_object(s, p) == SLAB_OBJ_LIVE && !tc_marked(p);
}

/* The size of p if it is a live block (checked without reporting: the call
 * itself reports), else 0. */
static size_t live_usable(void *p)
{
	struct slab *s;
	bool live;

	if (backend_system || boot_owns(p))
		return usable(p);
	if ((s = slab_of(p)))
		live = small_live(s, p);
	else
		live = !misuse_of(heap_arena_of(p), p);
	return live ? usable(p) : 0;
}

static __attribute__((noinline)) void observe_free(enum call c, void *p)
{
	size_t u = live_usable(p);

	if (u)
		insight_free(c, p, u);
}

#define OBSERVED(c, old, old_usable, a, b, expr) ({ \
	void *p_ = (expr); \
	insight_on ? observe_alloc((c), (old), (old_usable), (a), (b), p_) : p_; \
})

/* malloc past its fast path. While nothing is observed (boot_plain: no
 * guard to add, nothing to tell), a size the cache holds goes straight to
 * it (the newest block of a big class inline) and then to the arena,
 * without alloc_core's tests for what a switch adds: larson (16-1024 B)
 * takes a fifth of its blocks from the next classes up, each 134
 * instructions that way before (3.88G -> 3.74G for the whole run). The
 * rest is out of line, reached by tail calls, so that malloc_slow saves
 * no registers on its way to a big class's block (a 2000-byte pair 195 ->
 * 180 instructions). */
static __attribute__((noinline)) void *malloc_other(size_t n)
{
	if (boot_not_ready())
		return boot_alloc(16, n);
	return OBSERVED(CALL_MALLOC, NULL, 0, n, 0, backend_system ? sys.malloc(n) : alloc_core(n));
}

static __attribute__((noinline)) void *malloc_cached(size_t r)
{
	return cache_or_arena(r);
}

static __attribute__((noinline)) void *malloc_slow(size_t n)
{
	void *p;

	if (__builtin_expect(boot_plain, 1) && n - 1 < TC_BIG_MAX) {
		size_t r = ALIGN16(n);

		return n > TC_MAX_SIZE && (p = tc_get_big(r)) ? p : malloc_cached(r);
	}
	return malloc_other(n);
}

/* A block of n bytes from the thread's cache when nothing is observed
 * (boot_plain) and its exact class holds one, else NULL: malloc's and
 * calloc's fast path. n - 1 wraps for n == 0, which takes the slow way:
 * req's test for it stays off this one. */
static inline void *cached(size_t n)
{
	return __builtin_expect(boot_plain, 1) && n - 1 < TC_MAX_SIZE ? tc_get(ALIGN16(n)) : NULL;
}

/* The fast path: a block of the thread cache, no lock, no atomic operation. */
EXPORT void *malloc(size_t n)
{
	void *p = cached(n);

	return p ? p : malloc_slow(n);
}

/* ---- free ---- */

static void check_locked(struct arena *a, void *call)
{
	insight_check_heap(a, call);
}

/* A block with a header that is not a live plain heap block: checked, then
 * a mapped one unmapped, a heap one back to its arena. */
static __attribute__((noinline)) void release_block(enum call c, struct arena *a, void *p)
{
	const char *what = misuse_of(a, p);
	struct block_meta *b = block_of(p);

	if (what) {
		misuse_say(call_name(c), what, p);
		return;
	}
	if (b->status != STATUS_MAPPED) {
		arena_give_back(a, NULL, p);
		return;
	}
	if (insight_check)
		arena_with_lock(a, check_locked, (void *)call_name(c));
	if (!(*block_tag(b) & BLOCK_PROXY))
		tune_freed_mapped(b);
	map_release(check_owner(p));   /* refused at vm.max_map_count: lost, and not an error */
}

/* p, not a slab object, is a plain heap block of a in use that the program
 * has not freed already: the rest of its header and its neighbours' are
 * its arena's to check when it goes back there. */
static inline bool heap_live(struct arena *a, void *p)
{
	return heap_in_use(a, p) && !tc_marked(p);
}

/* p, a live heap block (heap_live) of the caller's arena a, kept by the
 * thread: in its cache, or waiting for its next lock; false when neither
 * takes it. */
static inline bool heap_kept(struct arena *a, void *p)
{
	return tc_keep(NULL, p) || (a == arena_bound && tc_defer(p, block_of(p)->size));
}

/* p, a live heap block of a (heap_live): kept by the thread, else back to
 * a, which checks the rest of its header and its neighbours' (a report of
 * damage names call c; keeping p reports nothing). */
static inline void heap_give_back(enum call c, struct arena *a, void *p)
{
	if (tc_off || !arena_is_callers(a) || !heap_kept(a, p)) {
		diag_call = call_name(c);
		arena_give_back(a, NULL, p);
	}
}

/* p, an address in slab s of arena a, given back by call: a live object
 * into the thread's cache when a is the thread's own, else to a (its
 * remote-free list when another thread holds it); anything else reported. */
static inline void slab_give_back(const char *call, struct arena *a, struct slab *s, void *p)
{
	if (__builtin_expect(!small_live(s, p), 0))
		misuse_small(call, s, p);
	else if (tc_off || !arena_is_callers(a) || !tc_put(p, s->size))
		arena_give_back(a, s, p);
}

/* Gives p back (to its slab, the thread's cache or its wait for a lock,
 * else its arena), after checking it; c names the call in a report. The
 * thread keeps a live plain heap block of its own arena (heap_live,
 * heap_kept); anything else but such a block or a slab object (mapped
 * blocks, misuse) takes release_block's checked path. */
static void give_back(enum call c, void *p)
{
	struct slab *s;
	struct arena *a;

	if (insight_check)
		guard_forget(p);
	diag_call = call_name(c);   /* what a report of damage met on the way names */
	if (backend_system) {
		sys.free(p);
	} else if ((s = slab_of(p))) {
		slab_give_back(call_name(c), slab_arena(s), s, p);
	} else if (heap_live(a = heap_arena_of(p), p)) {
		heap_give_back(c, a, p);
	} else {
		release_block(c, a, p);
	}
}

/* free(p), for free and for realloc(p, 0). A damaged guard is reported, and
 * the call then does nothing with the block (with OSMEM_ABORT_ON_ERROR=0):
 * it stays allocated, no longer guarded, and a later free frees it. */
static inline void release(enum call c, void *p)
{
	if (insight_check && !guard_ok(c, p))
		return;
	if (insight_on)
		observe_free(c, p);
	give_back(c, p);
}

static __attribute__((noinline)) void free_slow(void *p)
{
	if (!p || boot_owns(p))
		return;
	release(CALL_FREE, p);
}

/* p, a live heap block of a, into the thread's cache where it has room
 * now, as heap_give_back's first step would put it: free_other's own way,
 * which makes no call (and so saves no registers) for the common case. */
static inline bool heap_cached(struct arena *a, void *p, bool callers)
{
	size_t n = block_of(p)->size;

	return !tc_off && (callers || arena_is_callers(a)) && tc_heap_size(n) && tc_put_room(tc, p, n);
}

/* The rest of heap_give_back's way, for free_other. */
static __attribute__((noinline)) void heap_free_other(struct arena *a, void *p)
{
	heap_give_back(CALL_FREE, a, p);
}

/* free_other's way for p, not a slab object, inside a segment of a (the
 * caller's arena where callers says so): a live heap block into the cache
 * or on to heap_give_back, anything else to free_slow's checked way. */
static inline void free_in_segment(struct arena *a, void *p, bool callers)
{
	if (!heap_header_in_use(block_of(p)) || tc_marked(p))
		free_slow(p);
	else if (!heap_cached(a, p, callers))
		heap_free_other(a, p);
}

/* free_other's way for p, not a slab object, outside the newest segment of
 * a (with no regions: brk was refused or moved, and older segments hold
 * blocks), or no heap block at all: the walk over the segments decides. */
static __attribute__((noinline)) void free_far(struct arena *a, void *p)
{
	if (heap_segment_of(a, block_of(p)))
		free_in_segment(a, p, false);
	else
		free_slow(p);
}

/* free_other's way for p, an address in slab s of arena a (another
 * arena's object, or its own whose class had no room, or a misuse): what
 * free_slow's way would do with it, without its tests for the switches
 * (boot_plain) and without looking the slab up again. Out of line, reached
 * by tail calls: tc_put may call tc_put_slow. */
static __attribute__((noinline)) void free_slab(struct arena *a, struct slab *s, void *p)
{
	diag_call = "free";
	slab_give_back("free", a, s, p);
}

/* free_other's way for p outside the caller's own segment (or with no
 * caller's arena: a thread that never allocated, a consumer): out of
 * line, so that free_other saves no registers on this way for its own
 * (inline, prodcons's frees of the other thread's blocks took 193
 * instructions, 182 before the own way came first, 190 now). */
static __attribute__((noinline)) void free_foreign(void *p)
{
	struct arena *a;
	struct slab *s;

	if ((s = slab_in(p, a = heap_arena_of(p))))
		free_slab(a, s, p);
	else if (heap_segment_near(a, block_of(p)))
		free_in_segment(a, p, false);
	else
		free_far(a, p);
}

/* free's way for what its fast path did not keep: with a switch on,
 * everything, by free_slow; else, in the caller's own segment, a live heap
 * block as give_back's would go, without its tests again, and a slab
 * object by free_slab; anything else by free_foreign. Out of line, so that
 * the fast path saves no registers for it; and itself with no call but in
 * tail position, so that it saves none either on its way into the cache
 * (larson: 3.75G -> 3.63G instructions). The page of p lies in p's
 * region, so one look finds the arena of both (slab_in, slab_of's test
 * with it). */
static __attribute__((noinline)) void free_other(void *p)
{
	struct arena *a;

	if (__builtin_expect(!boot_plain, 0)) {
		free_slow(p);
		return;
	}
	if (!p)
		return;
	/* The caller's own heap first, found by its segment's bounds alone,
	 * without the regions' bitmap that heap_arena_of reads (a block of the
	 * brk heap, or of the arena's first region); anything else (another
	 * thread's block: prodcons frees nothing else) takes that way after a
	 * few instructions, not after a lookup of its own. */
	if ((a = arena_callers()) && heap_segment_home(a, block_of(p))) {
		struct slab *s = slab_in(p, a);

		if (s)
			free_slab(a, s, p);
		else
			free_in_segment(a, p, true);
		return;
	}
	free_foreign(p);
}

/* The fast path: a live slab object of the caller's arena into its cache
 * (own_slab), its bit saying it is handed out and its second word that no
 * cache holds it. errno survives: nothing here fails but a report, and the
 * report keeps it. */
EXPORT void free(void *p)
{
	struct slab *s = slab_page(p);

	if (!own_slab(p, s) || !small_live(s, p) || !tc_put_slab(p, s))
		free_other(p);
}

/* ---- calloc, realloc ---- */

/* Unlike os_calloc, which maps every block from a page up (SPEC rule 14),
 * calloc takes the heap below the mmap threshold, as glibc does: a fresh
 * mapping per 4 KiB calloc costs two syscalls. */
static void *calloc_core(size_t t)
{
	void *p = alloc_core(t);

	if (p && (req(t) <= SLAB_MAX || block_of(p)->status != STATUS_MAPPED))
		memset(p, 0, t);
	return p;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t t;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &t))
		return OBSERVED(CALL_CALLOC, NULL, 0, nmemb, size, core_nomem());
	/* malloc's fast path, then zeroed: gcc's cc1 makes one call in three a
	 * calloc (1.4M of 4.2M compiling a 20k-line file). A calloc(1, 32) and
	 * its free took 229 instructions through alloc_core, 125 this way
	 * (malloc's pair: 97). */
	if ((p = cached(t)))
		return memset(p, 0, t);
	if (boot_not_ready())
		return boot_alloc(16, t);   /* static memory, never reused: already zero */
	return OBSERVED(CALL_CALLOC, NULL, 0, nmemb, size,
			backend_system ? sys.calloc(nmemb, size) : calloc_core(t));
}

/* realloc by a new block and a copy, for blocks the core cannot resize. */
static void *realloc_copy(void *p, size_t n)
{
	void *q = backend_system ? sys.malloc(n) : alloc_core(n);
	size_t old = usable(p);

	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	if (!boot_owns(p))
		give_back(CALL_REALLOC, p);
	return q;
}

/* A mapped block that stays large is resized where it lies, as glibc does:
 * kept while the new size fits its pages and uses half of them, else
 * mremap'd (the core maps, copies and unmaps, SPEC rules 5 and 19). Growth
 * asks for a quarter more than needed: a buffer grown by small appends
 * takes a few mremaps, not one per page (the pages not written cost no
 * memory). */
static void *realloc_mapped(struct block_meta *b, size_t n)
{
	size_t cap = map_capacity(b->size), want = req(n);
	struct block_meta *nb;

	if (want <= cap && want >= cap / 2)
		want = cap;
	else if (want > cap && want <= core_max_request() - want / 4)
		want += want / 4;
	nb = map_resize(b, want);
	if (!nb && want > req(n))   /* the slack refused: exactly, then */
		nb = map_resize(b, req(n));
	return nb ? block_payload(nb) : NULL;
}

/* q, realloc's result: a mapped block is flagged as realloc's. */
static void *grown(void *q)
{
	if (q && block_of(q)->status == STATUS_MAPPED)
		*block_tag(block_of(q)) |= BLOCK_GROWN;
	return q;
}

/* realloc of p, a live object of slab s (small_live has checked it): kept
 * while the new size fits its class and uses more than half of it, else
 * realloc_copy's work, the new block from malloc's fast path when its
 * class holds one and the old going straight into the thread's cache when
 * it is of the thread's own arena (own_slab), as free's fast path puts it,
 * instead of through give_back's checks again. sqlite3 inserting 1M rows
 * grows a 16-byte object to 24 bytes for each (glibc grows it in place):
 * 459 instructions a realloc through realloc_copy, 223 this way with
 * alloc_core for the new block; malloc(16), realloc to 24 and free 315
 * instructions that way, 245 with the fast path first (glibc 325). */
static void *realloc_small(void *p, struct slab *s, size_t n)
{
	void *q;

	if (req(n) <= s->size && req(n) > s->size / 2)
		return p;
	if (!(q = cached(n)) && !(q = alloc_core(n)))
		return NULL;
	memcpy(q, p, s->size < n ? s->size : n);
	if (!own_slab(p, s) || !tc_put_slab(p, s))
		give_back(CALL_REALLOC, p);
	return q;
}

/* realloc of a live block to n > 0 bytes, but an object of the thread's
 * own slabs (realloc_block). */
static __attribute__((noinline)) void *realloc_other(void *p, size_t n)
{
	diag_jmp jb, *outer = diag_recover;
	struct slab *s;
	struct block_meta *b = block_of(p);
	struct arena *a;
	const char *what = NULL;
	bool held;
	void *q;

	if (boot_owns(p))
		return realloc_copy(p, n);
	if (backend_system)
		return sys.realloc(p, n);
	if (n > core_max_request())
		return core_nomem();
	/* OSMEM_CHECK: a guarded block always moves, its guard verified first,
	 * so that no block's room changes while it lives (guard.c). */
	if (insight_check && guard_requested(p) != SIZE_MAX)
		return guard_ok(CALL_REALLOC, p) ? realloc_copy(p, n) : NULL;
	/* A live mapped block that stays mapped, recognised by its own header
	 * (on p's page: no slab object starts 32 bytes into one) and the list
	 * (map_state_of: its keyed seal and its neighbours' links), before the
	 * general look at what p is: a buffer grown by appends comes here for
	 * every one (realloc_grow: 137 instructions such a realloc, 225 through
	 * misuse_of's look at every kind of block). */
	if ((uintptr_t)b % SLAB_PAGE == 0 && b->status == STATUS_MAPPED && !(*block_tag(b) & BLOCK_PROXY) &&
	    req(n) + HDR >= tune_mmap_from() && map_state_of(b) == MAP_LIVE)
		return grown(realloc_mapped(b, n));
	if ((s = slab_of(p))) {
		if (!small_live(s, p)) {
			misuse_small("realloc", s, p);
			return NULL;
		}
		return realloc_small(p, s, n);
	}
	a = heap_arena_of(p);
	if ((what = misuse_of(a, p))) {
		misuse_say("realloc", what, p);
		return NULL;
	}
	/* (A live mapped block that stays mapped went to realloc_mapped above.) */
	if (*block_tag(b) & BLOCK_PROXY)   /* over-aligned: the core sees the mapped block behind it */
		return realloc_copy(p, n);
	diag_call = "realloc";
	if (!diag_abort && (diag_recover = &jb, __builtin_setjmp(jb))) {
		arena_recover(outer);      /* the arena is out of service: a copy elsewhere */
		return realloc_copy(p, n);
	}
	if (b->status == STATUS_MAPPED) {   /* down to the heap: the caller's arena */
		a = enter_checked("realloc", &held);
		q = core_realloc(a, p, req(n), tune_mmap_from());
		arena_leave(a, held);
	} else {   /* the block's own arena resizes it, or moves it; a busy foreign one, a copy */
		int got = arena_lock_if_free(a);

		/* Busy, out of service, or not to be trusted. */
		if (got < 0 || a->damaged || (what = check_block(a, b))) {
			arena_leave(a, got > 0);
			diag_recover = outer;
			if (what) {
				misuse_header("realloc", a, p, what);
				return NULL;
			}
			return realloc_copy(p, n);
		}
		held = got;
		if (insight_check)
			insight_check_heap(a, "realloc");
		q = core_realloc(a, p, req(n), tune_mmap_from());
		arena_leave(a, held);
	}
	diag_recover = outer;
	return grown(q);
}

/* realloc of a live block to n > 0 bytes. An object of the thread's own
 * slabs is found as free's fast path finds it: one comparison instead of
 * slab_of's search for its arena. */
static inline void *realloc_block(void *p, size_t n)
{
	struct slab *s = slab_page(p);

	if (own_slab(p, s) && small_live(s, p))
		return realloc_small(p, s, n);
	return realloc_other(p, n);
}

static void *realloc_call(enum call c, void *p, size_t n, size_t a, size_t b)
{
	size_t old;

	if (boot_not_ready())
		return p ? realloc_copy(p, n) : boot_alloc(16, n);
	if (!p)
		return OBSERVED(c, NULL, 0, a, b, backend_system ? sys.malloc(n) : alloc_core(n));
	if (n == 0) {
		if (!boot_owns(p))
			release(c, p);
		return NULL;
	}
	old = insight_on ? live_usable(p) : 0;
	return OBSERVED(c, p, old, a, b, realloc_block(p, n));
}

EXPORT void *realloc(void *p, size_t n)
{
	/* Nothing to observe (boot_plain: no insight switch on, the bootstrap
	 * over): a block to resize goes straight there. */
	if (__builtin_expect(boot_plain, 1) && p && n)
		return realloc_block(p, n);
	return realloc_call(CALL_REALLOC, p, n, n, 0);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t t;

	if (__builtin_mul_overflow(nmemb, size, &t))
		return OBSERVED(CALL_REALLOCARRAY, p, 0, nmemb, size, core_nomem());
	return realloc_call(CALL_REALLOCARRAY, p, t, nmemb, size);
}

/* ---- the memalign family ---- */

static inline bool pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* The memalign family once the alignment is valid: a power of two. */
static void *aligned(enum call c, size_t align, size_t n)
{
	void *p;

	if (boot_not_ready())
		return boot_alloc(align, n);
	if (backend_system)
		p = sys.memalign(align, n);
	else if (align <= 16)
		p = alloc_core(n);
	else if (align > core_max_request() / 2 || n > core_max_request())
		p = core_nomem();
	else if ((p = alloc_locked(call_name(c), align, room(n))) && insight_check)
		p = guarded(n, p);
	return OBSERVED(c, NULL, 0, align, n, p);
}

/* As glibc's: EINVAL leaves errno alone, ENOMEM sets it too (glibc's
 * tst-malloc-thread-fail takes any other errno for a bug), and a success
 * keeps the caller's errno whatever failed on the way (a refused brk). */
EXPORT int posix_memalign(void **memptr, size_t align, size_t n)
{
	int saved = errno;
	void *p;

	if (!pow2(align) || align % sizeof(void *))
		return EINVAL;
	p = aligned(CALL_POSIX_MEMALIGN, align, n);
	if (!p) {
		errno = ENOMEM;
		return ENOMEM;
	}
	errno = saved;
	*memptr = p;
	return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	if (!pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return aligned(CALL_ALIGNED_ALLOC, align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
	/* As glibc: above the largest power of two there is nothing to round up
	 * to (SIZE_MAX among them), EINVAL; a power of two too large to serve,
	 * ENOMEM. */
	if (align > SIZE_MAX / 2 + 1) {
		errno = EINVAL;
		return NULL;
	}
	if (align > core_max_request() / 2)
		return core_nomem();
	while (!pow2(align))         /* glibc rounds up to the next power of two */
		align = align ? (align | (align - 1)) + 1 : 1;
	return aligned(CALL_MEMALIGN, align, n);
}

EXPORT void *valloc(size_t n)
{
	return aligned(CALL_VALLOC, (size_t)getpagesize(), n);
}

EXPORT void *pvalloc(size_t n)
{
	size_t page = (size_t)getpagesize();

	if (n > core_max_request())
		return core_nomem();
	return aligned(CALL_PVALLOC, page, n ? page_up(n) : page);
}

/* ---- the rest of the family ---- */

/* A heap block's header is checked before its size is believed. */
EXPORT size_t malloc_usable_size(void *p)
{
	struct arena *a;

	if (!p)
		return 0;
	if (backend_system || boot_owns(p) || slab_of(p))
		return usable(p);
	a = heap_arena_of(p);
	if (heap_segment_of(a, block_of(p))) {
		if (misuse_header_bad("malloc_usable_size", a, p))
			return 0;
	} else if (check_pointer(a, p) == PTR_DAMAGED) {   /* a mapped block's size cannot be believed */
		misuse_say("malloc_usable_size", misuse_of(a, p), p);
		return 0;
	}
	return usable(p);
}

/* Every arena's empty slabs and free top (its empty regions too); the
 * calling thread's cache first, since it may hold the top block. */
EXPORT int malloc_trim(size_t pad)
{
	if (backend_system)
		return sys.malloc_trim(pad);
	if (boot_not_ready())
		return 0;
	diag_call = "malloc_trim";
	tc_flush();
	return arena_trim_all(pad);
}

/* M_ARENA_MAX, M_ARENA_TEST, M_MMAP_THRESHOLD, M_MMAP_MAX, M_TRIM_THRESHOLD
 * and M_TOP_PAD are honoured (1); anything else, 0. */
EXPORT int mallopt(int param, int value)
{
	if (boot_not_ready())
		return 0;
	return backend_system ? sys.mallopt(param, value) : tune_set(param, value);
}

/* Every arena's figures, each walked under its lock, added up (an arena
 * out of service left out). */
static void usage(struct heap_usage *u)
{
	memset(u, 0, sizeof *u);
	for (struct arena *a = arena_next(NULL); a; a = arena_next(a))
		arena_usage(a, u);
	stats_mapped(u);
}

EXPORT struct mallinfo2 mallinfo2(void)
{
	struct heap_usage u;
	struct mallinfo2 m = { 0 };

	if (backend_system)
		return sys.mallinfo2();
	diag_call = "mallinfo2";
	usage(&u);
	m.arena = u.heap_bytes;
	m.ordblks = u.free_blocks;
	m.hblks = u.mapped_blocks;
	m.hblkhd = u.mapped_bytes;
	m.uordblks = u.in_use_bytes;
	m.fordblks = u.free_bytes;
	m.keepcost = u.top_free;
	return m;
}

EXPORT struct mallinfo mallinfo(void)
{
	struct mallinfo2 m2 = mallinfo2();
	struct mallinfo m = {
		.arena = (int)m2.arena, .ordblks = (int)m2.ordblks, .hblks = (int)m2.hblks,
		.hblkhd = (int)m2.hblkhd, .uordblks = (int)m2.uordblks, .fordblks = (int)m2.fordblks,
		.keepcost = (int)m2.keepcost,
	};
	return m;
}

/* A line per arena, then the mapped blocks and the totals, on stderr. */
EXPORT void malloc_stats(void)
{
	struct heap_usage u, total;
	char msg[256];

	if (backend_system) {
		sys.malloc_stats();
		return;
	}
	diag_call = "malloc_stats";
	for (struct arena *a = arena_next(NULL); a; a = arena_next(a)) {
		memset(&u, 0, sizeof u);
		if (arena_usage(a, &u))
			diag_fmt(msg, sizeof msg,
				 "osmem arena %u: %zu bytes in %zu segments, %zu in use, %zu free in %zu blocks (%zu at the top), %u threads\n",
				 a->id, u.heap_bytes, u.segments, u.in_use_bytes, u.free_bytes, u.free_blocks, u.top_free,
				 a->threads);
		else
			diag_fmt(msg, sizeof msg, "osmem arena %u: out of service (damaged)\n", a->id);
		diag_write(msg);
	}
	usage(&total);
	diag_fmt(msg, sizeof msg,
		 "osmem mmap: %zu bytes in %zu blocks\n"
		 "osmem total: %zu bytes in %u arenas and mappings, %zu in use\n",
		 total.mapped_bytes, total.mapped_blocks, total.heap_bytes + total.mapped_bytes, arena_count(),
		 total.in_use_bytes + total.mapped_bytes);
	diag_write(msg);
}

/* OSMEM_STATS, OSMEM_LEAKS, OSMEM_TRACE: the reports, when the process exits
 * normally (a destructor: libosmem.so, preloaded first, is finalised last). */
__attribute__((destructor)) static void report_at_exit(void)
{
	struct heap_usage u;

	if (!insight_on)
		return;
	if (!backend_system)
		usage(&u);
	insight_exit(backend_system ? NULL : &u);
}
