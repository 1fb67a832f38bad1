/* The drop-in's own interfaces, grouped by the file that owns them:
 * boot.c (initialisation and the bootstrap area), misuse.c (reports),
 * tcache.c (the thread cache), arena.c (arenas, threads, fork), tune.c
 * (mallopt and the MALLOC_* variables). malloc.c holds the exports. */
#ifndef OSMEM_DROPIN_H
#define OSMEM_DROPIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/single_threaded.h>

#include "internal.h"

/* Everything declared here is the library's own (-fvisibility=hidden only
 * marks definitions): a reference from another file then needs no GOT. */
#pragma GCC visibility push(hidden)

#define EXPORT __attribute__((visibility("default")))

/* ---- boot.c: initialisation, and the bootstrap area ----
 * Nothing happens at load time (SPEC rule 6): the first call initialises.
 * Calls made by what initialisation itself calls (dlsym, pthread_atfork,
 * getenv, the unwinder) come from the bootstrap area, a bump allocator whose
 * blocks are never reused. */

enum { BOOT_NONE, BOOT_RUNNING, BOOT_DONE };
extern _Atomic int boot_state;
extern TLS_IE bool boot_in_init;   /* this thread is initialising the library */
void boot_init(void);
/* Initialised, and no OSMEM_* switch nor the system backend on: malloc and
 * free may take their fast paths (the thread cache, no further test). */
extern bool boot_plain;

/* True when the caller must use the bootstrap area (initialising first when
 * nobody has). */
static inline bool boot_not_ready(void)
{
	if (__builtin_expect(atomic_load_explicit(&boot_state, memory_order_acquire) == BOOT_DONE, 1))
		return false;
	if (boot_in_init)
		return true;
	boot_init();
	return false;
}

#define BOOT_SIZE (256 * 1024)   /* dlsym and the unwinder's set-up; untouched pages cost nothing */
extern char boot_area[BOOT_SIZE];
static inline bool boot_owns(const void *p)
{
	return (const char *)p >= boot_area && (const char *)p < boot_area + BOOT_SIZE;
}
void *boot_alloc(size_t align, size_t n);   /* NULL with ENOMEM when full */
size_t boot_size(const void *p);

/* ---- misuse.c: reports of pointers that cannot be freed or resized ---- */

extern const char misuse_double_free[];
extern const char misuse_invalid[];
void misuse_init(void);                           /* OSMEM_ABORT_ON_ERROR */
/* One line naming the call, the pointer and what is wrong; then abort, or
 * (OSMEM_ABORT_ON_ERROR=0) carry on with errno as it was. */
__attribute__((cold)) void misuse_say(const char *call, const char *what, const void *p);
/* What is wrong with p, not a slab object, as a block to free or resize; NULL
 * when it is a live block of ours. a: the arena that would own it. */
const char *misuse_of(struct arena *a, void *p);
/* p, an address in slab s, that is not a live object. */
__attribute__((cold)) void misuse_small(const char *call, struct slab *s, void *p);
/* p's header (a heap block of a) cannot be trusted, for what reason: one
 * line "osmem: CALL(P): corrupted header: WHAT"; then abort, or a goes out
 * of service (no block of it is handed out or taken back again). */
__attribute__((cold)) void misuse_header(const char *call, struct arena *a, void *p, const char *what);
/* The same check for the drop-in's paths that hold no lock: true (and
 * reported) when p's header cannot be trusted. Looks again under a's lock
 * before it says so, since a neighbour may be changing meanwhile. */
bool misuse_header_bad(const char *call, struct arena *a, void *p);

/* p is a plain heap block of a in use (not a slab's, a proxy or merged
 * away), its size vouched for by its seal (block_tag_ok): what free and
 * the remote list's drain trust a heap block for before its arena checks
 * its neighbours. p must not be a slab object (slab_of first).
 * heap_header_in_use is the test of the header alone, for a caller that
 * has found its segment. */
static inline bool heap_header_in_use(struct block_meta *b)
{
	return block_tag_ok(b) && b->status == STATUS_ALLOC && !(*block_tag(b) & BLOCK_NOT_PLAIN);
}
static inline bool heap_in_use(struct arena *a, void *p)
{
	return heap_segment_of(a, block_of(p)) && heap_header_in_use(block_of(p));
}

/* ---- tcache.c: each thread's cache of freed small blocks ---- */

#define TC_MAX_SIZE 1024            /* largest size of the exact classes */
#define TC_CLASSES  (TC_MAX_SIZE / 16)
/* Above them heap blocks up to 8 KiB, in classes 256 bytes wide, each
 * slot's size kept beside it: a request takes the newest block of its
 * class that holds it (the same size freed and asked for again is the
 * newest), at most 255 bytes more than it asked for. Random sizes find a
 * block there that exact classes of 16 bytes would not have. Past 4 KiB
 * only while the process has one thread (tc_past_classes): live heap (16
 * B-8 KiB blocks, 1e5 live) took 1.00x glibc's time with classes to 4 KiB
 * and 0.97x with them to 8, at 234.7 and 236.7 MiB peak RSS (churn mixed
 * 19.9 and 20.1, realloc_grow 16.9 and 17.1; make bench -n 5); with them
 * in every thread the threaded programs' peaks rose by 3-8% (prodcons
 * 1.04x glibc's -> 1.12x, cache-scratch 1.11x -> 1.17x), each thread
 * holding larger blocks that merge with nothing. */
#define TC_BIG_STEP 256
#define TC_BIG_CLASSES 28
#define TC_BIG_MAX  (TC_MAX_SIZE + TC_BIG_STEP * TC_BIG_CLASSES)   /* 8192 */
#define TC_BIG_MAX_MT 4096          /* ... and this once there are threads */
#define TC_COUNT    16              /* blocks per class, */
/* ... and per class of slab objects (up to SLAB_MAX), which bursts of
 * small blocks fill: with 16, burst-mixed (16-128 B) took 1.16x glibc's
 * time and burst-16 0.92x, with 32 0.98x and 0.83x (scripts/bench -n 3),
 * for 2 KiB more of each thread's cache. With 64 a burst of 400 blocks of
 * 16-128 bytes (50 a class) no longer spills: 197 -> 166 instructions a
 * pair (callgrind, the benchmark's own included), 1600 blocks 247 -> 227;
 * with 128 rounds of 100 blocks of 16 bytes no longer spill either: 448.7M
 * -> 378.2M instructions for 3M pairs, burst-16's mix of 25-1600 480.7M ->
 * 440.7M, burst-mixed 504.1M -> 479.2M, for 4 KiB more of a cache (a
 * stack's slots are 1 KiB). The byte budget still bounds what a cache
 * holds. */
#define TC_COUNT_SLAB 128
#define TC_SLOTS    (SLAB_CLASSES * TC_COUNT_SLAB + (TC_CLASSES + TC_BIG_CLASSES - SLAB_CLASSES) * TC_COUNT)
_Static_assert(SLAB_MAX == SLAB_CLASSES * 16 && SLAB_CLASSES < TC_CLASSES, "the slab classes come first");
/* Class c's stack: where it starts in the slots (a table: one load on
 * malloc's fast path where the arithmetic took four instructions), and how
 * many it holds. */
#define TC_BASE(c) ((c) < SLAB_CLASSES ? (c) * TC_COUNT_SLAB : (c) * TC_COUNT + SLAB_CLASSES * (TC_COUNT_SLAB - TC_COUNT))
extern const uint16_t tc_bases[TC_CLASSES + TC_BIG_CLASSES];
static inline unsigned tc_base(unsigned c)
{
	return tc_bases[c];
}
static inline unsigned tc_cap(unsigned c)
{
	return c < SLAB_CLASSES ? TC_COUNT_SLAB : TC_COUNT;
}
/* A full class gives back its oldest three quarters (tcache.c), and an
 * empty slab class takes up to half its stack at once: a whole stack's
 * worth made churn small (random sizes, one at a time) mispredict half
 * again as often, for 4% fewer instructions in long bursts. */
#define TC_FLUSH(c) (tc_cap(c) * 3 / 4)
#define TC_REFILL   (TC_COUNT_SLAB / 2)
/* A slab class's stack overflows into magazines of TC_MAG blocks, a
 * thread's cache having TC_MAGS of them (16 KiB, resident as far as they
 * have been filled at once, until a flush gives their pages back): a burst
 * of 2048 frees of one class past its stack fits, of 1600 blocks of 16
 * bytes (burst 16's longest) with room to spare. Stacks fill and empty
 * them whole. With 128, 32 threads that had each spilled 4000 blocks of
 * 16 bytes held 900 KiB more than with the lists through the blocks. */
#define TC_MAG      32
#define TC_MAGS     64
_Static_assert(TC_COUNT_SLAB * 3 / 4 % TC_MAG == 0 && TC_REFILL % TC_MAG == 0 && TC_COUNT_SLAB % TC_MAG == 0,
	       "a slab class's stack spills and refills whole magazines");
_Static_assert(TC_MAGS < 255, "a magazine's number plus one fits a byte");
/* How much larger than a request a block of a later class may be: a
 * request whose own class is empty takes the newest such block rather than
 * the arena's lock (tc_get_fit). Random sizes meet it often: larson's peak
 * RSS fell by a seventh (blocks the cache held came back into use instead of
 * the heap growing), malloc-thread ran a quarter fewer instructions. Up to
 * SLAB_MAX none: the slab classes' stacks hold objects refilled from their
 * slabs, not only freed ones, and a request that takes the next class's
 * drains a stack that refills again, for bytes the object never uses: with
 * an eighth and 16 bytes, perl building a hash of 300,000 small arrays had
 * 6 MiB more heap than without the cache (9683 slabs of 64-byte objects and
 * 6 of 48, against 4842 and 3626); with an eighth (the next class from 128
 * bytes on), larson ran 2.4% more instructions than with none and churn
 * small, burst-mixed and perl the same, in as much memory or more.
 * Above SLAB_MAX an eighth and 16 bytes once the process has threads,
 * where a miss takes an arena's lock (malloc-thread at 2 threads: 1.52x
 * glibc's throughput, 1.35x with a sixty-fourth); while it has one, a
 * sixty-fourth and 16 bytes, and no block of r's own class larger either
 * but its newest (tc_get_big): the bytes a block holds beyond what was
 * asked for stay unused while it lives. With an eighth, any block of the
 * own class and a cache of 160 KiB, churn mixed's live blocks came to
 * 18.11 MB at its peak (heap 19.39 MB), live heap's to 240.1 MB (heap
 * 245.9 MB); with a sixty-fourth and 320 KiB (TC_BYTES) to 17.55 and 234.9
 * MB (heaps 18.89 and 241.1 MB). */
#define TC_FIT_SLACK(r) ((r) <= SLAB_MAX ? 0 : __libc_single_threaded ? (r) / 64 + 16 : (r) / 8 + 16)
/* Payload bytes per thread while there is one (OSMEM_TCACHE_KB sets both):
 * churn mixed (16-4096 B) took 0.94 s with none, 0.56 s with 64 KiB, 0.40
 * with 160, 0.30 with 320, 0.27 with 480 and 640, at 18.89, 19.12, 19.62,
 * 19.84, 20.10 and 20.23 MiB peak RSS (cached blocks merge with nothing,
 * so a larger cache costs heap); live heap (16 B-8 KiB, 1e5 live) 0.66,
 * 0.63 and 0.62 s with 160, 320 and 480 KiB, at 232.4, 233.8 and 234.6
 * MiB. With the looser fit of threads (TC_FIT_SLACK) and 160 KiB they had
 * taken 0.31 and 0.63 s at 19.99 and 236.7 MiB: 320 is faster than that
 * in less memory, 480 faster again in more; */
#define TC_BYTES    (320 * 1024)
#define TC_BYTES_MT (256 * 1024)    /* ... and once there are more, for threads that reuse, */
#define TC_BYTES_FREER (64 * 1024)  /* ... and for those that mostly free others' blocks */
#define TC_SHARED   (4u << 20)      /* ... but all threads' caches together no more (tcache.c), */
#define TC_FLOOR    (16 * 1024)     /* ... unless that leaves a cache less than this */
#define TC_DEFER    32              /* heap blocks a thread's frees may leave for its next lock, */
                                    /* ... as many bytes as its budget at most, */
#define TC_DEFER_MAX (64 * 1024)    /* ... each at most this large */

struct tcache {
	unsigned char count[TC_CLASSES + TC_BIG_CLASSES];
	/* slab_key of the thread's arena (arena_main in a single-threaded
	 * process; of NULL, which no slab holds, before a threaded one binds
	 * it, while a switch is on, and in tc_none): free's fast path takes a
	 * slab object whose check word matches it. */
	uintptr_t slab_key;
	size_t bytes;
	size_t budget;              /* bytes it may hold, and defer (tcache.c: budget) */
	uint32_t puts, hits;        /* blocks cached, and taken back: decaying counts */
	/* Blocks tc_get may still hand out before it lets one call through to
	 * tc_tick, which adds them to hits and looks at decay: a thread whose
	 * every malloc the cache serves still gives back what it freed. */
	uint32_t tick;
	/* Each class a stack of count blocks, kept here and not in the blocks:
	 * a write into a cached block (a use after free) cannot change what
	 * malloc hands out next. */
	void *slot[TC_SLOTS];                           /* class c's from tc_base(c) */
	/* A slab class's older blocks, past its stack (a burst of frees), in
	 * magazines of TC_MAG (mag, below), kept here like the stacks and
	 * never in the blocks (tcache.c: spill, unspill). Each class's
	 * magazines are a stack through mag_below, its newest at spill[c];
	 * the free ones a list through the same links from mag_free; those
	 * never used yet start at mag_fresh, so that a cache touches the
	 * pages of no more magazines than it has filled at once. A
	 * magazine's number plus one, 0 for none. Counted in bytes with the
	 * rest; malloc takes them back before the arena. */
	uint8_t spill[SLAB_CLASSES];
	uint8_t mag_below[TC_MAGS];
	uint8_t mag_free, mag_fresh;
	uint16_t nspill[SLAB_CLASSES];
	/* Their bytes, nspill times each class's size summed: kept, since
	 * each spill asks (the sum cost a burst 4 instructions a block). */
	size_t spill_bytes;
	uint16_t big_size[TC_BIG_CLASSES][TC_COUNT];   /* the big classes' block sizes */
	/* Heap blocks of the thread's own arena that it freed and the cache
	 * did not take, marked like cached ones: they go back to the arena
	 * the next time the thread holds its lock (a malloc that the cache
	 * could not serve, before it searches), so that a free costs no lock. */
	void *defer[TC_DEFER];
	unsigned ndefer;
	size_t defer_bytes;
	struct tcache *next;        /* retired: the next in the pool (tcache.c) */
	void *mag[TC_MAGS][TC_MAG]; /* last: pages past those in use stay untouched */
};

/* The calling thread's cache: the one word of it in initial-exec TLS (the
 * library stays loadable by dlopen, whose static TLS surplus is a few hundred
 * bytes; the cache is 43 KiB, 16 of them magazines). Until the thread's first put it points to
 * tc_none, which holds nothing and has no room, so every inline test of the
 * cache fails on it without a further test; tc_put_slow then gives the thread
 * a cache of its own. */
extern TLS_IE struct tcache *tc;
extern struct tcache tc_none;
/* Word 1 of a block the program freed that osmem has not taken back yet (in
 * a thread cache or on an arena's remote list): a second free of it is
 * caught. Random, and not the slabs' secret. */
extern uintptr_t tc_key;
extern bool tc_off;               /* OSMEM_CHECK: nothing is cached */
void tcache_init(void);
void tcache_fork_child(void);           /* the pool of retired caches unlocked */
static inline bool tc_marked(const void *p) { return ((const uintptr_t *)p)[1] == tc_key; }
static inline void tc_mark(void *p) { ((uintptr_t *)p)[1] = tc_key; }
static inline void tc_unmark(void *p) { ((uintptr_t *)p)[1] = 0; }

/* Class c's newest block, of z bytes, out of t, whose count for c is now
 * n: tc_get's and tc_get_big's. */
static inline void *tc_pop(struct tcache *t, unsigned c, unsigned n, size_t z)
{
	void *p;

	t->count[c] = (unsigned char)n;
	p = t->slot[tc_base(c) + n];
	t->bytes -= z;
	tc_unmark(p);
	return p;
}
/* A block of size class r (a multiple of 16) from the cache, or NULL. */
static inline void *tc_get(size_t r)
{
	struct tcache *t = tc;   /* read once: a byte store may alias the pointer */
	unsigned c = (unsigned)(r / 16) - 1, n;

	if (r > TC_MAX_SIZE || !(n = t->count[c]) || !--t->tick)
		return NULL;
	return tc_pop(t, c, n - 1, r);
}
#define TC_TICK 128
/* tc_get let a call through (t->tick is 0): its count starts again. */
void tc_tick(void);

/* A block of at least r bytes (a multiple of 16, at most TC_BIG_MAX) from
 * the cache, or NULL: r's own class first (in a big class, its newest block
 * that holds r), then the next classes' newest block at most TC_FIT_SLACK(r)
 * larger. */
void *tc_get_fit(size_t r);

/* Onto class c's stack of t (the thread's own cache), which starts at
 * slot base (tc_base(c)), marked. */
static inline bool tc_push_at(struct tcache *t, void *p, size_t r, unsigned c, unsigned base)
{
	t->puts++;
	t->slot[base + t->count[c]++] = p;
	t->bytes += r;
	tc_mark(p);
	return true;
}
static inline bool tc_push(struct tcache *t, void *p, size_t r, unsigned c)
{
	return tc_push_at(t, p, r, c, tc_base(c));
}

bool tc_put_slow(void *p, size_t r);
/* r is past the classes the cache fills now: TC_BIG_MAX while the process
 * has one thread, TC_BIG_MAX_MT once it has more (a block past that which
 * a thread put before the second started stays until taken or flushed). */
static inline bool tc_past_classes(size_t r)
{
	return r > TC_BIG_MAX_MT && (r > TC_BIG_MAX || !__libc_single_threaded);
}
/* The big class of r, above TC_MAX_SIZE and at most TC_BIG_MAX. */
static inline unsigned tc_big_class(size_t r)
{
	return TC_CLASSES + (unsigned)((r - TC_MAX_SIZE - 1) / TC_BIG_STEP);
}
/* Keeps p, a freed block of size r (a multiple of 16), marked, if there is
 * room (never while tc_off: callers check it, the fast path of free by
 * running only while no switch is on). Above TC_MAX_SIZE into a big class,
 * its size beside it; only what asks more than a push (a full class, the
 * budget, a size past the classes) in tc_put_slow. tc_put_room is the
 * push alone: false where tc_put_slow would have work. */
static inline bool tc_put_room(struct tcache *t, void *p, size_t r)
{
	unsigned c = r <= TC_MAX_SIZE ? (unsigned)(r / 16) - 1 : tc_big_class(r);

	if (tc_past_classes(r) || t->count[c] >= tc_cap(c) || t->bytes + r > t->budget)
		return false;
	if (c >= TC_CLASSES)
		t->big_size[c - TC_CLASSES][t->count[c]] = (uint16_t)r;
	return tc_push(t, p, r, c);
}
static inline bool tc_put(void *p, size_t r)
{
	struct tcache *t = tc;

	if (tc_put_room(t, p, r))
		return true;
	if (tc_past_classes(r))   /* no class: only a thread's first put has work there (its cache opens) */
		return t == &tc_none && tc_put_slow(p, r);
	return tc_put_slow(p, r);
}
/* A block of at least r bytes (above TC_MAX_SIZE, a multiple of 16, at most
 * TC_BIG_MAX) when the newest of r's big class holds it, else NULL (and
 * tc_get_fit looks further): malloc's way past the exact classes. */
static inline void *tc_get_big(size_t r)
{
	struct tcache *t = tc;
	unsigned c = tc_big_class(r), n;
	size_t z;

	if (!(n = t->count[c]) || (z = t->big_size[c - TC_CLASSES][--n]) < r || !--t->tick)
		return NULL;
	return tc_pop(t, c, n, z);
}
/* tc_put for p, an object of slab s (free's fast path: its class is one
 * of the first SLAB_CLASSES, the slab's cls, which small_live has read, so
 * its stack starts at a multiple of TC_COUNT_SLAB). */
static inline bool tc_put_slab(void *p, const struct slab *s)
{
	struct tcache *t = tc;
	unsigned c = s->cls % SLAB_CLASSES;
	size_t r = s->size;

	if (t->count[c] >= TC_COUNT_SLAB || t->bytes + r > t->budget)
		return tc_put_slow(p, r);
	return tc_push_at(t, p, r, c, c * TC_COUNT_SLAB);
}
void tc_flush(void);                    /* the calling thread's cache back to the arenas */
/* r (at most SLAB_MAX) was just taken from a slab of a, the caller's arena,
 * which it holds: more objects of r's class into the cache, up to
 * TC_REFILL and the byte budget, so that a burst of mallocs takes the
 * arena's way once in TC_REFILL + 1. A thread with no cache yet opens one
 * at its TC_OPEN_AFTER-th such take (tcache.c). */
void tc_refill(struct arena *a, size_t r);
void tc_bound(void);                    /* the thread's arena changed: its slab_key follows */

/* A heap block of n bytes is one the cache can file exactly: above the
 * slabs' sizes, a multiple of 16. */
static inline bool tc_heap_size(size_t n)
{
	return n > SLAB_MAX && n % 16 == 0;
}
/* p, a live block checked as such (an object of slab s, or with s NULL a
 * plain heap block whose seal holds), into the cache if it has room for
 * it (a heap block only of a tc_heap_size). */
static inline bool tc_keep(struct slab *s, void *p)
{
	size_t n = s ? s->size : block_of(p)->size;

	return (s || tc_heap_size(n)) && tc_put(p, n);
}

/* Leaves p, a checked heap block of r bytes of the caller's bound arena
 * (the process has threads), for tc_release_deferred: false when there is
 * no room (the caller gives it back now, which releases the rest too). */
static inline bool tc_defer(void *p, size_t r)
{
	struct tcache *t = tc;

	if (t->ndefer == TC_DEFER || r > TC_DEFER_MAX || t->defer_bytes + r > t->budget)
		return false;
	t->defer[t->ndefer++] = p;
	t->defer_bytes += r;
	tc_mark(p);
	return true;
}
/* The deferred blocks back to a, the caller's arena, whose lock it holds
 * (those of an arena it has left onto that one's remote list). */
void tc_release_deferred(struct arena *a);

/* ---- arena.c: arenas, the threads bound to them, fork ----
 * While the process has one thread everything is arena_main, unlocked
 * (glibc clears __libc_single_threaded before a second thread starts and
 * never sets it again). Then each thread is bound to an arena and takes its
 * lock; a block goes back to the arena that owns it. */

void arena_init(void);

/* An arena's lock: one compare-and-swap to take, one exchange to let go,
 * inline (a pthread mutex costs two calls and its type's dispatch on a path
 * every heap block above the cache takes). Taken, it spins a while, then
 * sleeps on a futex; a process that forks starts its child with it free. */
void arena_lock_wait(int *l);
static inline bool arena_lock_try(int *l)
{
	int free_ = 0;

	return __atomic_compare_exchange_n(l, &free_, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline void arena_lock_take(int *l)
{
	if (!arena_lock_try(l))
		arena_lock_wait(l);
}
void arena_lock_wake(int *l);
static inline void arena_lock_drop(int *l)
{
	if (__atomic_exchange_n(l, 0, __ATOMIC_RELEASE) == 2)
		arena_lock_wake(l);
}

extern TLS_IE struct arena *arena_bound;   /* the calling thread's arena, NULL before it has one */
/* The arena the calling thread allocates from: its bound one, arena_main
 * while the process has one thread, else (a thread that has not allocated
 * yet) NULL. Only that arena's blocks may wait in the thread's cache, so
 * that a thread never reuses another's memory (a block the main thread
 * handed it, on a cache line beside others it handed to other threads). */
static inline struct arena *arena_callers(void)
{
	struct arena *m = arena_bound;

	return m ? m : __libc_single_threaded ? &arena_main : NULL;
}
/* a (never NULL) is the calling thread's arena. */
static inline bool arena_is_callers(const struct arena *a)
{
	return arena_callers() == a;
}
/* The caller's arena, locked unless single-threaded (*held says); blocks
 * other threads freed into it are taken back first. */
struct arena *arena_enter_threaded(bool *held);
static inline struct arena *arena_enter(bool *held)
{
	if (__libc_single_threaded && !arena_main.damaged) {
		*held = false;
		return &arena_main;
	}
	return arena_enter_threaded(held);
}
/* a itself (the owner of a block being resized), locked the same way. */
bool arena_lock(struct arena *a);
/* The same, but for an arena not the caller's only if its lock is free:
 * -1 when it is not (a thread does not wait on another's arena). */
int arena_lock_if_free(struct arena *a);
/* The arena whose lock the calling thread holds (at most one where the core
 * is called), for arena_recover. */
extern TLS_IE struct arena *arena_held;
static inline void arena_leave(struct arena *a, bool held)
{
	if (held) {
		arena_held = NULL;
		arena_lock_drop(&a->lock);
	}
}
/* OSMEM_ABORT_ON_ERROR=0: damage the core meets inside an arena's index
 * (index.c), its structures half changed, comes back by longjmp to the
 * point the drop-in set (diag_recover) before it locked the arena: that
 * arena is out of service, arena_recover lets its lock go, and the call goes
 * on without it. While reports abort, no point is set. Usage:
 *	diag_jmp jb, *outer = diag_recover;
 *	if (!diag_abort && (diag_recover = &jb, __builtin_setjmp(jb))) { arena_recover(outer); ... }
 *	... the locked work ...
 *	diag_recover = outer;  */
void arena_recover(diag_jmp *outer);
/* fn(a, arg) with a's lock held (arena_lock), for the calls that lock an
 * arena outside malloc, free and realloc (malloc_trim, mallinfo2,
 * malloc_stats, malloc_usable_size's second look, a thread's exit, the
 * insight reports). Taking the lock takes back the remote and deferred
 * frees, which may meet damage: with OSMEM_ABORT_ON_ERROR=0 that puts a out
 * of service (reported), inside fn too, and false comes back with the lock
 * let go, as it does at once for an arena already out of service. */
bool arena_with_lock(struct arena *a, void (*fn)(struct arena *a, void *arg), void *arg);
/* a's figures added to u (stats_usage) under its lock; false, and nothing
 * added, for an arena out of service. */
bool arena_usage(struct arena *a, struct heap_usage *u);
/* Gives back p, a live block of arena a (a slab object of s, or a heap
 * block): directly when the caller may lock a, else onto a's remote list,
 * by way of the thread's outbox (arena.c). */
void arena_give_back(struct arena *a, struct slab *s, void *p);
/* The n blocks of v (live or cached, checked; with slabs all slab
 * objects, else all plain heap blocks) back to their arenas: the blocks of
 * one arena that follow each other under one lock. */
void arena_give_back_many(void **v, unsigned n, bool slabs);
/* The thread exits: the blocks it freed into other arenas go now, and any
 * it frees from here on go at once. */
void arena_outbox_close(void);
/* A heap block or slab object (of s, or NULL) back to its arena, whose lock
 * the caller holds. */
void arena_free_locked(struct arena *a, struct slab *s, void *p);
/* Decay: memory that stays free in an arena for tune.decay_ms goes back to
 * the system (arena.c). a, whose lock the caller holds, was called into;
 * every DECAY_TICKS calls while it holds memory not yet given back, the
 * clock says whether its pass is due. */
#define DECAY_TICKS 32
void arena_decay_due(struct arena *a);
static inline void arena_tick(struct arena *a)
{
	/* Counts down to 0, then looks: a new arena's 0 looks at once (a
	 * countdown that tested after its decrement wrapped there, and looked
	 * again only 2^32 calls later). */
	if (__builtin_expect(a->dirty, 0) && !a->decay_ticks--) {
		a->decay_ticks = DECAY_TICKS - 1;
		arena_decay_due(a);
	}
}
/* The thread that decays idle arenas, started once the process has threads
 * (the caller holds no lock of ours). */
extern bool purger_started;
void arena_purger_start(void);
/* A single-threaded process's decay when its calls reach no arena (its
 * thread cache serves them): arena_main's pass if it is due. */
void arena_decay_main(void);
/* Every arena in turn, arena_main first (arena_next(NULL) is the first). */
struct arena *arena_next(struct arena *a);
unsigned arena_count(void);
bool arena_trim_all(size_t pad);

/* ---- tune.c: mallopt, and glibc's MALLOC_* variables ---- */

struct tune {
	size_t mmap_threshold;          /* blocks from here up (header included) are mapped */
	bool mmap_fixed;                /* set by the program: it no longer rises */
	size_t mmap_max;                /* at most this many mapped blocks (0: none) */
	size_t trim_threshold;          /* free top beyond this goes back at free; 0: never */
	size_t top_pad;                 /* extra bytes each growth of a heap asks for */
	unsigned arena_max;             /* 0: from the CPUs */
	unsigned arena_test;            /* 0: not set (glibc's default is 8) */
	unsigned cpus;                  /* the CPUs the process may run on, at start */
	int decay_ms;                   /* OSMEM_DECAY_MS: free memory goes back after it (-1: never) */
	bool as_limited;                /* RLIMIT_AS is finite: free tops go back at once */
	/* A thread cache's budget (tcache.c): TC_BYTES, TC_BYTES_MT, TC_BYTES_FREER */
	size_t tc_bytes, tc_bytes_mt, tc_bytes_freer;
};
extern struct tune tune;
void tune_init(void);                   /* MALLOC_*, OSMEM_ARENAS, OSMEM_DECAY_MS, OSMEM_TCACHE_KB */
/* The value of environment variable name, or NULL; and whether two strings
 * are the same. getenv and strcmp would do, but their text lies in windows
 * of libc that the kernel maps 64 KiB at a time and that nothing else in
 * most programs touches: every process on osmem kept such a window (and
 * the string functions' below it) resident for a few lookups at start. */
const char *env_get(const char *name);
bool str_same(const char *a, const char *b);
int tune_set(int param, int value);     /* mallopt: 1 when honoured */
/* The most arenas while bound threads have one (fewer once they crowd the CPUs). */
unsigned tune_arena_limit(unsigned bound);
static inline size_t tune_mmap_from(void)
{
	return __atomic_load_n(&tune.mmap_threshold, __ATOMIC_RELAXED);
}
/* A mapped block of b's size was freed: like glibc's, the threshold rises to
 * it (up to OSMEM_MMAP_MAX) unless the program fixed it. */
void tune_freed_mapped(struct block_meta *b);

#pragma GCC visibility pop

#endif
