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
#include <unistd.h>

#include "internal.h"
#include "osmem.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS    __thread __attribute__((tls_model("initial-exec")))

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- initialisation ----
 * Nothing happens at load time (SPEC rule 6): the first call initialises.
 * Calls made by what init itself calls (pthread_atfork may allocate) are
 * recognised by in_init and served from the bootstrap area. */

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static _Atomic int init_state;
static TLS bool in_init;
static bool abort_on_error = true;   /* OSMEM_ABORT_ON_ERROR=0 turns reports into warnings */

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_parent(void) { pthread_mutex_unlock(&lock); }
/* The child has one thread, and the lock's holder before fork was us. */
static void fork_child(void) { pthread_mutex_init(&lock, NULL); }

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
	/* Registered at the first call, so ours is the last prepare handler to
	 * run: handlers of other libraries may still allocate before it. */
	pthread_atfork(fork_prepare, fork_parent, fork_child);
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

#define BOOT_SIZE (64 * 1024)
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

static void report(const char *call, const char *what, const void *p)
{
	char msg[160];

	diag_fmt(msg, sizeof msg, "osmem: %s(%p): %s\n", call, p, what);
	diag_write(msg);
	if (abort_on_error)
		abort();
}

/* Validates p for free/realloc; reports and returns false when it is not a
 * live block of ours. Called with the lock held; drops it before reporting. */
static bool live_or_report(const char *call, void *p)
{
	switch (check_pointer(p)) {
	case PTR_HEAP:
	case PTR_MAPPED:
		return true;
	case PTR_FREED:
		pthread_mutex_unlock(&lock);
		report(call, "double free (the block is already free)", p);
		return false;
	default:
		pthread_mutex_unlock(&lock);
		report(call, "invalid pointer (not allocated by osmem)", p);
		return false;
	}
}

/* ---- the family ---- */

/* Every size the core sees from here is a multiple of 16 (SPEC rule 24) and
 * at least 16, so malloc(0) is unique. */
static inline size_t req(size_t n)
{
	return n ? ALIGN16(n) : 16;
}

static void *alloc_locked(size_t n)
{
	void *p;

	if (n > core_max_request())
		return core_nomem();
	pthread_mutex_lock(&lock);
	p = os_malloc(req(n));
	pthread_mutex_unlock(&lock);
	return p;
}

EXPORT void *malloc(size_t n)
{
	if (not_ready())
		return boot_alloc(16, n);
	return alloc_locked(n);
}

EXPORT void free(void *p)
{
	int saved;

	if (!p || is_boot(p))
		return;
	saved = errno;
	pthread_mutex_lock(&lock);
	if (live_or_report("free", p)) {
		os_free(block_payload(check_owner(p)));
		pthread_mutex_unlock(&lock);
	}
	errno = saved;
}

/* Unlike os_calloc, which maps every block from a page up (SPEC rule 14),
 * calloc takes the heap below the mmap threshold, as glibc does: a fresh
 * mapping per 4 KiB calloc costs two syscalls. */
EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t t;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &t))
		return core_nomem();
	if (not_ready())
		return boot_alloc(16, t);   /* static memory, never reused: already zero */
	p = alloc_locked(t);
	if (p && block_of(p)->status != STATUS_MAPPED)
		memset(p, 0, t);
	return p;
}

static size_t usable(void *p)
{
	return is_boot(p) ? boot_size(p) : block_of(p)->size;
}

/* realloc by a new block and a copy, for blocks the core cannot resize. */
static void *realloc_copy(void *p, size_t n)
{
	void *q = malloc(n);
	size_t old = usable(p);

	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

EXPORT void *realloc(void *p, size_t n)
{
	struct block_meta *b;
	void *q;

	if (!p)
		return malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	if (is_boot(p) || not_ready())
		return realloc_copy(p, n);
	if (n > core_max_request())
		return core_nomem();
	pthread_mutex_lock(&lock);
	if (!live_or_report("realloc", p))
		return NULL;
	b = block_of(p);
	if (*block_tag(b) & BLOCK_PROXY) {
		/* Over-aligned: the core sees the mapped block behind it. */
		pthread_mutex_unlock(&lock);
		return realloc_copy(p, n);
	}
	/* A mapped block that still fits, and stays large, is kept: the core
	 * would map, copy and unmap even for a smaller size (SPEC rule 19). */
	if (b->status == STATUS_MAPPED && req(n) <= b->size && req(n) + HDR >= OSMEM_THRESHOLD &&
	    req(n) >= b->size / 2)
		q = p;
	else
		q = os_realloc(p, req(n));
	pthread_mutex_unlock(&lock);
	return q;
}

EXPORT void *reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t t;

	if (__builtin_mul_overflow(nmemb, size, &t))
		return core_nomem();
	return realloc(p, t);
}

static inline bool pow2(size_t x)
{
	return x && !(x & (x - 1));
}

static void *aligned(size_t align, size_t n)
{
	void *p;

	if (not_ready())
		return boot_alloc(align, n);
	if (align <= 16)
		return alloc_locked(n);
	if (align > core_max_request() / 2 || n > core_max_request())
		return core_nomem();
	pthread_mutex_lock(&lock);
	p = align_alloc(align, n);
	pthread_mutex_unlock(&lock);
	return p;
}

EXPORT int posix_memalign(void **memptr, size_t align, size_t n)
{
	int saved = errno;
	void *p;

	if (!pow2(align) || align % sizeof(void *))
		return EINVAL;
	p = aligned(align, n);
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
	return aligned(align, n);
}

EXPORT void *memalign(size_t align, size_t n)
{
	if (align > core_max_request() / 2)
		return core_nomem();
	while (!pow2(align))         /* glibc rounds up to the next power of two */
		align = align ? (align | (align - 1)) + 1 : 1;
	return aligned(align, n);
}

EXPORT void *valloc(size_t n)
{
	return aligned((size_t)getpagesize(), n);
}

EXPORT void *pvalloc(size_t n)
{
	size_t page = (size_t)getpagesize();

	if (n > core_max_request())
		return core_nomem();
	return aligned(page, n ? (n + page - 1) & ~(page - 1) : page);
}

EXPORT size_t malloc_usable_size(void *p)
{
	return p ? usable(p) : 0;
}

EXPORT int malloc_trim(size_t pad)
{
	bool done;

	pthread_mutex_lock(&lock);
	done = heap_trim(pad);
	pthread_mutex_unlock(&lock);
	return done;
}

/* No glibc tunable changes what osmem does. */
EXPORT int mallopt(int param, int value)
{
	(void)param;
	(void)value;
	return 0;
}

static void usage(struct heap_usage *u)
{
	pthread_mutex_lock(&lock);
	stats_usage(u);
	pthread_mutex_unlock(&lock);
}

EXPORT struct mallinfo2 mallinfo2(void)
{
	struct heap_usage u;
	struct mallinfo2 m = { 0 };

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

	usage(&u);
	diag_fmt(msg, sizeof msg,
		 "osmem heap: %zu bytes in %zu segments, %zu in use, %zu free in %zu blocks (%zu at the top)\n"
		 "osmem mmap: %zu bytes in %zu blocks\n",
		 u.heap_bytes, u.segments, u.in_use_bytes, u.free_bytes, u.free_blocks, u.top_free,
		 u.mapped_bytes, u.mapped_blocks);
	diag_write(msg);
}
