/* The drop-in: glibc's malloc family over the os_* core, with the semantics
 * of SPEC part 2. This layer adds only what the standard API needs: a lock
 * around the single-threaded core, 16-byte sizes, glibc's edge cases, misuse
 * reports, fork safety, and a bootstrap area for allocations made while it
 * initialises itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/single_threaded.h>
#include <unistd.h>

#include "internal.h"
#include "insight.h"
#include "system.h"
#include "osmem.h"

#define EXPORT __attribute__((visibility("default")))

/* One lock around the single-threaded core, skipped while the process has a
 * single thread: glibc clears __libc_single_threaded before the second thread
 * starts, and never sets it again, so no one else can be inside then. */
static pthread_mutex_t lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;   /* spins a little before sleeping */

static inline bool lock_core(void)
{
	if (__libc_single_threaded)
		return false;
	pthread_mutex_lock(&lock);
	return true;
}

static inline void unlock_core(bool held)
{
	if (held)
		pthread_mutex_unlock(&lock);
}

/* ---- initialisation ----
 * Nothing happens at load time (SPEC rule 6): the first call initialises.
 * Calls made by what init itself calls (pthread_atfork may allocate) are
 * recognised by in_init and served from the bootstrap area. */

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static _Atomic int init_state;
static TLS_IE bool in_init;
static bool abort_on_error = true;   /* OSMEM_ABORT_ON_ERROR=0 turns reports into warnings */

static pthread_key_t tc_exit;        /* gives a thread's cache back when it exits */
static bool tc_exit_ok;
static uintptr_t tc_key;             /* word 1 of a small object in a thread cache */
static void tc_flush(void *arg);

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_parent(void) { pthread_mutex_unlock(&lock); }
/* The child has one thread, and the lock's holder before fork was us. */
static void fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	insight_fork_child();
}

static void init_slow(void)
{
	int expected = INIT_NONE;
	const char *v;

	if (!atomic_compare_exchange_strong(&init_state, &expected, INIT_RUNNING)) {
		while (atomic_load(&init_state) != INIT_DONE)
			sched_yield();
		return;
	}
	in_init = true;
	v = getenv("OSMEM_ABORT_ON_ERROR");
	if (v && strcmp(v, "0") == 0)
		abort_on_error = false;
	slab_init();
	/* Its own random value: a freed block shows it to a use-after-free read,
	 * and it must not give the slabs' secret away. */
	if (getrandom(&tc_key, sizeof tc_key, GRND_NONBLOCK) != (ssize_t)sizeof tc_key)
		tc_key = slab_secret * 0x9e3779b97f4a7c15ULL + 0x243f6a8885a308d3ULL;
	system_init();
	insight_init();
	arena_main.grow_pad = OSMEM_GROW_PAD;
	if (!arena_main.heap.started)   /* a program that used os_* first keeps their index */
		arena_main.idx.lists = true;
	/* Registered at the first call, so ours is the last prepare handler to
	 * run: handlers of other libraries may still allocate before it. */
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	tc_exit_ok = pthread_key_create(&tc_exit, tc_flush) == 0;
	in_init = false;
	atomic_store(&init_state, INIT_DONE);
}

/* True when the caller must use the bootstrap area. */
static inline bool not_ready(void)
{
	if (__builtin_expect(atomic_load_explicit(&init_state, memory_order_acquire) == INIT_DONE, 1))
		return false;
	if (in_init)
		return true;
	init_slow();
	return false;
}

/* ---- the bootstrap area: a bump allocator, never reused ---- */

#define BOOT_SIZE (256 * 1024)   /* dlsym and the unwinder's set-up; untouched pages cost nothing */
static _Alignas(64) char boot[BOOT_SIZE];
static size_t boot_used;   /* only the initialising thread allocates here */

static bool is_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + BOOT_SIZE;
}

/* Each chunk is preceded by its size, so realloc and malloc_usable_size work. */
static void *boot_alloc(size_t align, size_t n)
{
	uintptr_t start = (uintptr_t)boot + boot_used + sizeof(size_t);
	uintptr_t p;

	if (align < 16)
		align = 16;
	p = (start + align - 1) & ~(uintptr_t)(align - 1);
	if (n > BOOT_SIZE || p + n > (uintptr_t)boot + BOOT_SIZE) {
		errno = ENOMEM;
		return NULL;
	}
	((size_t *)p)[-1] = n;
	boot_used = p + n - (uintptr_t)boot;
	return (void *)p;
}

static size_t boot_size(const void *p)
{
	return ((const size_t *)p)[-1];
}

/* ---- misuse ---- */

void misuse_report(const char *msg)
{
	int saved = errno;

	diag_write(msg);
	if (abort_on_error)
		abort();
	errno = saved;
}

static void report(const char *call, const char *what, const void *p)
{
	char msg[160];

	diag_fmt(msg, sizeof msg, "osmem: %s(%p): %s\n", call, p, what);
	misuse_report(msg);
}

/* Checks that p is a live block of ours (the lock held, as `held` says);
 * otherwise drops the lock, reports, and returns false. */
static const char DOUBLE_FREE[] = "double free (the block is already free)";
static const char INVALID[] = "invalid pointer (not allocated by osmem)";

/* What is wrong with p, not a slab block, as a block to free or resize (the
 * lock held), or NULL when it is a live block of ours. */
static const char *misuse(void *p)
{
	switch (check_pointer(&arena_main, p)) {
	case PTR_HEAP:
		return (*block_tag(block_of(p)) & BLOCK_CACHED) ? DOUBLE_FREE : NULL;
	case PTR_MAPPED:
		return NULL;
	case PTR_FREED:
		return DOUBLE_FREE;
	default:
		return INVALID;
	}
}

static bool live_or_report(const char *call, void *p, bool held)
{
	const char *what = misuse(p);

	if (!what)
		return true;
	unlock_core(held);
	report(call, what, p);
	return false;
}

/* ---- the thread cache ----
 * Each thread keeps a few freed small blocks per 16-byte size class and hands
 * them back to its next malloc of that class without the lock. Up to
 * SLAB_MAX they are slab objects, above it heap blocks; either way the core
 * still counts them in use. A cached slab object holds tc_key in its second
 * word and a cached heap block has BLOCK_CACHED in its tag, so a second free
 * of either is still reported. A thread that exits gives its cache back.
 * Bounded by TC_COUNT per class and TC_BYTES, or TC_BYTES_MT once there are
 * threads and every miss contends for the lock (larson, two threads: 4-9 s
 * with 64 KiB, 0.7-1.2 s with 256 KiB here) - but only for a thread that
 * takes blocks back out of its cache: one that mostly frees what others
 * allocated (a consumer) would only sit on the memory, so it keeps TC_BYTES. */

#define TC_MAX_SIZE 1024            /* largest block size cached */
#define TC_CLASSES  (TC_MAX_SIZE / 16)
#define TC_COUNT    16              /* blocks per class */
#define TC_BYTES    (64 * 1024)     /* payload bytes per thread while there is one */
#define TC_BYTES_MT (256 * 1024)    /* ... and once there are more: each miss takes the lock */

struct tcache {
	void *head[TC_CLASSES];     /* lists linked through the first payload word */
	unsigned char count[TC_CLASSES];
	size_t bytes;
	uint32_t puts, hits;        /* blocks cached, and taken back: decaying counts */
	bool registered;            /* the thread-exit destructor is armed */
};

static TLS_IE struct tcache tc;

/* Takes the cache mark off p, a block of size r leaving the cache. */
static inline void tc_unmark(void *p, size_t r)
{
	if (r <= SLAB_MAX)
		((uintptr_t *)p)[1] = 0;
	else
		*block_tag(block_of(p)) &= ~BLOCK_CACHED;
}

static void tc_flush(void *arg)
{
	struct tcache *t = arg;
	bool held = lock_core();

	for (unsigned c = 0; c < TC_CLASSES; c++) {
		size_t r = 16 * (c + 1);
		while (t->head[c]) {
			void *p = t->head[c];
			t->head[c] = *(void **)p;
			tc_unmark(p, r);
			if (r <= SLAB_MAX)
				slab_free(&arena_main, slab_of(p), p);
			else
				os_free(p);
		}
		t->count[c] = 0;
	}
	t->bytes = 0;
	unlock_core(held);
}

static inline void *tc_get(size_t r)
{
	unsigned c = (unsigned)(r / 16) - 1;
	void *p;

	if (r > TC_MAX_SIZE || !(p = tc.head[c]))
		return NULL;   /* always empty under OSMEM_CHECK: tc_put keeps nothing */
	tc.head[c] = *(void **)p;
	tc.count[c]--;
	tc.bytes -= r;
	tc.hits++;
	tc_unmark(p, r);
	return p;
}

/* Keeps p, a freed block of size r (a multiple of 16), if there is room; the
 * caller marks it. */
static inline bool tc_put(void *p, size_t r)
{
	unsigned c = (unsigned)(r / 16) - 1;

	if (r > TC_MAX_SIZE || tc.count[c] >= TC_COUNT || insight_check)
		return false;
	if (tc.bytes + r > TC_BYTES &&
	    (__libc_single_threaded || tc.bytes + r > TC_BYTES_MT || tc.hits < tc.puts / 2))
		return false;
	if (++tc.puts == 1u << 16) {
		tc.puts /= 2;
		tc.hits /= 2;
	}
	if (!tc.registered) {
		tc.registered = true;
		if (tc_exit_ok)
			pthread_setspecific(tc_exit, &tc);
	}
	*(void **)p = tc.head[c];
	tc.head[c] = p;
	tc.count[c]++;
	tc.bytes += r;
	return true;
}

static inline bool tc_marked_small(const void *p)
{
	return ((const uintptr_t *)p)[1] == tc_key;
}

/* p, an address in slab s, is an object handed out and not freed since (one
 * in a thread cache is free). */
static inline bool small_live(const struct slab *s, const void *p)
{
	return slab_object(s, p) == SLAB_OBJ_LIVE && !tc_marked_small(p);
}

/* ---- the family ---- */

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

	if (is_boot(p))
		return boot_size(p);
	if (backend_system)
		return sys.malloc_usable_size(p);
	if (insight_check && (n = guard_requested(p)) != SIZE_MAX)
		return n;
	return raw_usable(p);
}

/* Blocks from this size up (header included) are mapped. It starts at the
 * core's 128 KiB and, like glibc's, rises to just above the size of a mapped
 * block that is freed (up to OSMEM_MMAP_MAX): a program that keeps taking and
 * dropping large buffers gets them from the heap, without a mmap, a munmap
 * and fresh page faults each time. Written under the lock. */
static size_t mmap_from = OSMEM_THRESHOLD;

static inline size_t mmap_threshold(void)
{
	return __atomic_load_n(&mmap_from, __ATOMIC_RELAXED);
}

static void raise_threshold(struct block_meta *b)
{
	size_t m = b->size + HDR;

	/* A buffer grown by realloc is better left to mremap than moved about
	 * the heap as it grows (realloc_grow: peak RSS 0.71x, from 1.0x). */
	if (*block_tag(b) & BLOCK_GROWN)
		return;
	if (m >= mmap_from && m <= OSMEM_MMAP_MAX)
		__atomic_store_n(&mmap_from, m + 16, __ATOMIC_RELAXED);
}

static void *core_malloc(size_t r)
{
	struct block_meta *b = core_alloc(&arena_main, r, mmap_threshold());

	return b ? block_payload(b) : core_nomem();
}

/* A slab object; when no new slab can be had (it needs two pages of room to
 * align one), a heap block with a header, which may still fit. */
static void *small_alloc(size_t r)
{
	void *p = slab_alloc(&arena_main, r);

	return p ? p : core_malloc(r);
}

/* Takes the core for call; with OSMEM_CHECK, the guard walk first (outside
 * the lock, which reports never hold), then the checker. */
static inline bool lock_checked(const char *call)
{
	bool held;

	if (insight_check)
		guard_walk(call);
	held = lock_core();
	if (insight_check)
		insight_check_heap(call);
	return held;
}

/* The core under the lock. */
#define CORE(call, expr) ({ \
	bool held_ = lock_checked(call); \
	__typeof__(expr) r_ = (expr); \
	unlock_core(held_); \
	r_; \
})

/* Bytes to ask the core for a request of n: with OSMEM_CHECK, room for the guard. */
static inline size_t room(size_t n)
{
	return insight_check ? n + GUARD_MIN : n;
}

static inline void give_back(enum call c, void *p);

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

static void *alloc_core(size_t n)
{
	size_t r;
	void *p;

	if (n > core_max_request())
		return core_nomem();
	r = req(room(n));
	p = tc_get(r);
	if (!p)
		p = r <= SLAB_MAX ? CORE("malloc", small_alloc(r)) : CORE("malloc", core_malloc(r));
	return insight_check ? guarded(n, p) : p;
}

/* ---- what the insight switches see (only while one is on) ---- */

static __attribute__((noinline)) void *observe_alloc(enum call c, const void *old, size_t old_usable,
						       size_t a, size_t b, void *p)
{
	insight_alloc(c, old, old_usable, a, b, p, p ? usable(p) : 0);
	return p;
}

/* The size of p if it is a live block (checked without reporting: the call
 * itself reports), else 0. */
static size_t live_usable(void *p)
{
	struct slab *s;
	bool held, live;

	if (backend_system || is_boot(p))
		return usable(p);
	if ((s = slab_of(p))) {
		live = small_live(s, p);
	} else {
		held = lock_core();
		live = !misuse(p);
		unlock_core(held);
	}
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

EXPORT void *malloc(size_t n)
{
	if (not_ready())
		return boot_alloc(16, n);
	return OBSERVED(CALL_MALLOC, NULL, 0, n, 0, backend_system ? sys.malloc(n) : alloc_core(n));
}

/* The cache's path for free: a plain ALLOC block inside a heap segment,
 * above the slab sizes (the classes up to them hold only slab objects). */
static inline bool free_to_cache(struct block_meta *b)
{
	if (!heap_segment_of(&arena_main, b) || !block_tag_ok(b) || b->status != STATUS_ALLOC ||
	    (*block_tag(b) & BLOCK_NOT_PLAIN) || b->size <= SLAB_MAX || b->size % 16 ||
	    !tc_put(block_payload(b), b->size))
		return false;
	*block_tag(b) |= BLOCK_CACHED;
	return true;
}

/* Reports p, an address in slab s that is not a live object. */
static __attribute__((noinline, cold)) void small_report(enum call c, struct slab *s, void *p)
{
	report(call_name(c), slab_object(s, p) == SLAB_OBJ_BAD ? INVALID : DOUBLE_FREE, p);
}

/* Whether p, an address in slab s, is a live object (a cached one is free);
 * otherwise a report. */
static inline bool small_live_or_report(enum call c, struct slab *s, void *p)
{
	if (__builtin_expect(small_live(s, p), 1))
		return true;
	small_report(c, s, p);
	return false;
}

/* Frees p, a live object of s: to the thread cache, else to its slab. */
static inline void free_small_live(struct slab *s, void *p)
{
	bool held;

	if (tc_put(p, s->size)) {
		((uintptr_t *)p)[1] = tc_key;
		return;
	}
	held = lock_checked("free");
	slab_free(&arena_main, s, p);
	unlock_core(held);
}

/* Frees a block whose pointer has not been checked yet, through the core. */
static __attribute__((noinline)) void release_core(const char *call, void *p)
{
	bool held = lock_checked(call);

	if (!live_or_report(call, p, held))
		return;
	if (block_of(p)->status == STATUS_MAPPED && !(*block_tag(block_of(p)) & BLOCK_PROXY))
		raise_threshold(block_of(p));
	os_free(block_payload(check_owner(p)));
	unlock_core(held);
}

/* Gives p back (to its slab or a thread cache, else the core), after
 * checking it; c names the call in a report. */
static inline void give_back(enum call c, void *p)
{
	struct slab *s;

	if (insight_check)
		guard_forget(p);
	if (backend_system)
		sys.free(p);
	else if ((s = slab_of(p))) {
		if (small_live_or_report(c, s, p))
			free_small_live(s, p);
	} else if (!free_to_cache(block_of(p)))
		release_core(call_name(c), p);
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

/* errno survives: nothing here fails but a report, and report() keeps it. */
EXPORT void free(void *p)
{
	if (!p || is_boot(p))
		return;
	release(CALL_FREE, p);
}

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

	if (__builtin_mul_overflow(nmemb, size, &t))
		return OBSERVED(CALL_CALLOC, NULL, 0, nmemb, size, core_nomem());
	if (not_ready())
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
	if (!is_boot(p))
		give_back(CALL_REALLOC, p);
	return q;
}

/* realloc of a live block to n > 0 bytes. */
static void *realloc_block(void *p, size_t n)
{
	struct slab *s;
	struct block_meta *b;
	bool held;
	void *q;

	if (is_boot(p))
		return realloc_copy(p, n);
	if (backend_system)
		return sys.realloc(p, n);
	if (n > core_max_request())
		return core_nomem();
	/* OSMEM_CHECK: a guarded block always moves, its guard verified first,
	 * so that no block's room changes while it lives (guard.c). */
	if (insight_check && guard_requested(p) != SIZE_MAX)
		return guard_ok(CALL_REALLOC, p) ? realloc_copy(p, n) : NULL;
	if ((s = slab_of(p))) {
		/* Kept while the new size fits and uses more than half of it. */
		if (!small_live_or_report(CALL_REALLOC, s, p))
			return NULL;
		return req(n) <= s->size && req(n) > s->size / 2 ? p : realloc_copy(p, n);
	}
	held = lock_checked("realloc");
	if (!live_or_report("realloc", p, held))
		return NULL;
	b = block_of(p);
	if (*block_tag(b) & BLOCK_PROXY) {
		/* Over-aligned: the core sees the mapped block behind it. */
		unlock_core(held);
		return realloc_copy(p, n);
	}
	/* A mapped block that stays large is resized where it lies, as glibc
	 * does: kept while the new size fits its pages and uses half of them,
	 * else mremap'd (the core maps, copies and unmaps, SPEC rules 5 and 19).
	 * Growth asks for a quarter more than needed: a buffer grown by small
	 * appends takes a few mremaps, not one per page (the pages not written
	 * cost no memory). */
	if (b->status == STATUS_MAPPED && req(n) + HDR >= mmap_threshold()) {
		size_t cap = map_capacity(b->size), want = req(n);

		if (want <= cap && want >= cap / 2)
			want = cap;
		else if (want > cap && want <= core_max_request() - want / 4)
			want += want / 4;
		q = (b = map_resize(b, want)) ? block_payload(b) : NULL;
		if (!q && want > req(n))   /* the slack refused: exactly, then */
			q = (b = map_resize(block_of(p), req(n))) ? block_payload(b) : NULL;
	} else {
		q = core_realloc(&arena_main, p, req(n), mmap_threshold());
	}
	if (q && block_of(q)->status == STATUS_MAPPED)
		*block_tag(block_of(q)) |= BLOCK_GROWN;
	unlock_core(held);
	return q;
}

static void *realloc_call(enum call c, void *p, size_t n, size_t a, size_t b)
{
	size_t old;

	if (not_ready())
		return p ? realloc_copy(p, n) : boot_alloc(16, n);
	if (!p)
		return OBSERVED(c, NULL, 0, a, b, backend_system ? sys.malloc(n) : alloc_core(n));
	if (n == 0) {
		if (!is_boot(p))
			release(c, p);
		return NULL;
	}
	old = insight_on ? live_usable(p) : 0;
	return OBSERVED(c, p, old, a, b, realloc_block(p, n));
}

EXPORT void *realloc(void *p, size_t n)
{
	return realloc_call(CALL_REALLOC, p, n, n, 0);
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t t;

	if (__builtin_mul_overflow(nmemb, size, &t))
		return OBSERVED(CALL_REALLOCARRAY, p, 0, nmemb, size, core_nomem());
	return realloc_call(CALL_REALLOCARRAY, p, t, nmemb, size);
}

static inline bool pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* The memalign family once the alignment is valid: a power of two. */
static void *aligned(enum call c, size_t align, size_t n)
{
	void *p;

	if (not_ready())
		return boot_alloc(align, n);
	if (backend_system)
		p = sys.memalign(align, n);
	else if (align <= 16)
		p = alloc_core(n);
	else if (align > core_max_request() / 2 || n > core_max_request())
		p = core_nomem();
	else if ((p = CORE(call_name(c), align_alloc(&arena_main, align, room(n)))) && insight_check)
		p = guarded(n, p);
	return OBSERVED(c, NULL, 0, align, n, p);
}

EXPORT int posix_memalign(void **memptr, size_t align, size_t n)
{
	int saved = errno;
	void *p;

	if (!pow2(align) || align % sizeof(void *))
		return EINVAL;
	p = aligned(CALL_POSIX_MEMALIGN, align, n);
	errno = saved;
	if (!p)
		return ENOMEM;
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
	return aligned(CALL_PVALLOC, page, n ? (n + page - 1) & ~(page - 1) : page);
}

EXPORT size_t malloc_usable_size(void *p)
{
	return p ? usable(p) : 0;
}

EXPORT int malloc_trim(size_t pad)
{
	if (backend_system)
		return sys.malloc_trim(pad);
	tc_flush(&tc);   /* the calling thread's cache may hold the top block */
	return CORE("malloc_trim", (slab_trim(&arena_main), heap_trim(&arena_main, pad)));
}

/* No glibc tunable changes what osmem does. */
EXPORT int mallopt(int param, int value)
{
	return backend_system ? sys.mallopt(param, value) : 0;
}

static void usage(struct heap_usage *u)
{
	bool held = lock_core();

	memset(u, 0, sizeof *u);
	stats_usage(&arena_main, u);
	stats_mapped(u);
	unlock_core(held);
}

EXPORT struct mallinfo2 mallinfo2(void)
{
	struct heap_usage u;
	struct mallinfo2 m = { 0 };

	if (backend_system)
		return sys.mallinfo2();
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

EXPORT void malloc_stats(void)
{
	struct heap_usage u;
	char msg[512];

	if (backend_system) {
		sys.malloc_stats();
		return;
	}
	usage(&u);
	diag_fmt(msg, sizeof msg,
		 "osmem heap: %zu bytes in %zu segments, %zu in use, %zu free in %zu blocks (%zu at the top)\n"
		 "osmem mmap: %zu bytes in %zu blocks\n",
		 u.heap_bytes, u.segments, u.in_use_bytes, u.free_bytes, u.free_blocks, u.top_free,
		 u.mapped_bytes, u.mapped_blocks);
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
