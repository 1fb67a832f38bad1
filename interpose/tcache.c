/* The thread cache: each thread keeps a few freed small blocks per 16-byte
 * size class and hands them back to its next malloc of that class with no
 * lock and no atomic operation (tc_get and tc_put, inline in dropin.h);
 * heap blocks up to 8 KiB too (4 KiB once there are threads), in wider
 * classes (a single-threaded process as well: churn mixed, 16-4096 B, ran
 * 1.23x glibc's time without them and 0.98x with them, peak RSS 1.03x and
 * 1.04x: the byte budget bounds what they keep from merging); a request
 * above the slab sizes that its own
 * class cannot serve takes a block a little larger (tc_get_fit; a slab size
 * takes none larger: its class refills from its slabs instead); and the
 * thread's own arena's heap blocks it does not keep wait for its next lock
 * of that arena (tc_defer, tc_release_deferred). Up to
 * SLAB_MAX they are slab objects, above it heap blocks; either way the core
 * still counts them in use, and tc_key in the second word says the program
 * freed them, so a second free is still reported. Each thread's cache is
 * memory of its own, reached from one thread-local pointer (tc): mapped at
 * its first free (or, single-threaded, its TC_OPEN_AFTER-th take from a
 * slab), retired to a pool when it exits, for the next thread. The cache's
 * links are its own arrays, never the blocks' bytes (issue 12: a use after
 * free that writes a chosen address into a cached block changes nothing). Blocks of any arena may
 * sit here; they go back to their own arenas when the cache is flushed: at
 * malloc_trim and when the thread exits.
 *
 * Bounded by TC_COUNT per class (TC_COUNT_SLAB for slab sizes) and a byte
 * budget (budget(), OSMEM_TCACHE_KB): TC_BYTES, or TC_BYTES_MT once there
 * are threads and every miss takes an arena lock (larson, two threads: 4-9 s
 * with 64 KiB, 0.7-1.2 s with 256 KiB, measured with one lock) - but only
 * for a thread that takes blocks back out of its cache: one that mostly
 * frees what others allocated (a consumer) would only sit on the memory, and
 * keeps TC_BYTES_FREER. Past the budget the older half of each class goes
 * back (make_room). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/random.h>

#include "dropin.h"

/* Full to every test that would put into it (no budget, no room to defer)
 * and empty to every take, so no path writes to it (tc_tick leaves it as it
 * is) but tcache_init, once: its key. In .bss: initialised at build time,
 * a whole cache of it made the library's data three pages, each resident
 * in every process. */
struct tcache tc_none;
TLS_IE struct tcache *tc = &tc_none;
uintptr_t tc_key;
#define B4(c) TC_BASE(c), TC_BASE((c) + 1), TC_BASE((c) + 2), TC_BASE((c) + 3)
#define B16(c) B4(c), B4((c) + 4), B4((c) + 8), B4((c) + 12)
const uint16_t tc_bases[TC_CLASSES + TC_BIG_CLASSES] = {
	B16(0), B16(16), B16(32), B16(48), B16(64), B4(80), B4(84), B4(88),
};
_Static_assert(TC_CLASSES + TC_BIG_CLASSES == 92, "one base per class");
_Static_assert(TC_BASE(TC_CLASSES + TC_BIG_CLASSES - 1) + TC_COUNT == TC_SLOTS, "the stacks fill the slots");
bool tc_off;

static pthread_key_t exit_key;       /* flushes a thread's cache when it exits */
static unsigned open_caches;         /* threads that hold a cache now */
static bool exit_key_ok;
static TLS_IE bool closed;           /* the thread is exiting: no cache again */
/* Slab objects the thread has taken from its arena while it had no cache.
 * At TC_OPEN_AFTER, in a single-threaded process, it opens one (tc_refill),
 * so that a program building a large structure before it frees anything
 * fills its classes in batches too: live_million's million mallocs had
 * each taken the arena's lock and the slab's bitmap, about 290
 * instructions. Not in a threaded one: a thread there that only allocates
 * may be a producer whose blocks others free, and its cache would hold a
 * refill's leftovers of every class it takes from (prodcons: 130 KB more
 * heap at the peak, 2% more RSS). Wraps: after a failed open it tries
 * again 256 takes later. */
static TLS_IE uint8_t lone_takes;
#define TC_OPEN_AFTER 32

/* Caches of threads that have exited, for the next threads: a process that
 * starts thread after thread maps no more of them than ran at once. Linked
 * through next; a push or a pop leaves the list whole at every store, so a
 * fork child whose parent had another thread here starts it unlocked. */
#define TC_MAP_SIZE ((sizeof(struct tcache) + 4095) & ~(size_t)4095)
static int pool_lock;
static struct tcache *pool;

/* What t may hold, in its classes and again in blocks deferred: TC_BYTES
 * in a single-threaded process; in a threaded one TC_BYTES_MT for a thread
 * that takes blocks back out, TC_BYTES_FREER for one that does not (a
 * consumer: it would only sit on the memory); and no more than its share
 * of TC_SHARED (or of TC_BYTES_MT for each
 * CPU, if more), down to TC_FLOOR. Many more threads than CPUs would
 * otherwise each sit on a cache's worth: 256 threads held 30 MiB in their
 * caches and deferred frees beside 4.5 MiB of live blocks. Weighed again at
 * each tick and whenever a put would exceed it, so it follows the number of
 * threads. */
static size_t budget(const struct tcache *t)
{
	size_t b = __libc_single_threaded ? tune.tc_bytes : t->hits < t->puts / 2 ? tune.tc_bytes_freer : tune.tc_bytes_mt;
	size_t all = (size_t)tune.cpus * tune.tc_bytes_mt;
	unsigned n = __atomic_load_n(&open_caches, __ATOMIC_RELAXED);
	size_t share = (all > TC_SHARED ? all : TC_SHARED) / (n ? n : 1);

	if (share < b)   /* b is 0 only when OSMEM_TCACHE_KB=0 turned the caches off */
		b = share > TC_FLOOR ? share : TC_FLOOR;
	return b;
}

/* What a thread of arena a keeps as its slab_key: while a switch is on,
 * the key of no arena, which no slab's word holds (free's fast path then
 * has no flag of its own to test: whatever it would keep must be seen).
 * Never 0: a page that begins with its own address (a list head pointing
 * to itself) would match it, and a forged slab header behind it would
 * put a block of the program's choosing into the cache. */
static uintptr_t thread_key(const struct arena *a)
{
	return slab_key(boot_plain ? a : NULL);
}

/* The calling thread's first cache: from the pool, else mapped (zero). Its
 * exit flushes and retires it. */
static bool tc_open(void)
{
	struct tcache *t;

	if (closed || !exit_key_ok)   /* no exit hook: its blocks would be lost */
		return false;
	arena_lock_take(&pool_lock);
	if ((t = pool))
		pool = t->next;
	arena_lock_drop(&pool_lock);
	if (t) {
		/* Flushed when retired: only the counts that decay are left. */
		t->budget = 0;
		t->puts = t->hits = 0;
		t->next = NULL;
	} else if (!(t = map_region(TC_MAP_SIZE))) {
		return false;
	}
	t->tick = TC_TICK;
	t->slab_key = thread_key(arena_bound ? arena_bound : __libc_single_threaded ? &arena_main : NULL);
	pthread_setspecific(exit_key, t);
	__atomic_add_fetch(&open_caches, 1, __ATOMIC_RELAXED);
	t->budget = budget(t);
	tc = t;
	return true;
}

static void at_thread_exit(void *arg)
{
	struct tcache *t = arg;

	tc_flush();
	arena_outbox_close();
	closed = true;
	tc = &tc_none;
	__atomic_sub_fetch(&open_caches, 1, __ATOMIC_RELAXED);
	arena_lock_take(&pool_lock);
	t->next = pool;
	pool = t;
	arena_lock_drop(&pool_lock);
}

void tcache_fork_child(void)
{
	pool_lock = 0;
	/* Only the forking thread lives on, and its cache if it had one. */
	open_caches = tc != &tc_none;
}

static bool before_grow(struct arena *a);

void tcache_init(void)
{
	/* The key of no arena (thread_key): a secret's, never 0. slab_init
	 * has drawn the secret. */
	tc_none.slab_key = slab_key(NULL);
	/* Its own random value: a freed block shows it to a use-after-free read,
	 * and it must not give the slabs' secret away. */
	if (getrandom(&tc_key, sizeof tc_key, GRND_NONBLOCK) != (ssize_t)sizeof tc_key)
		tc_key = slab_secret * 0x9e3779b97f4a7c15ULL + 0x243f6a8885a308d3ULL;
	exit_key_ok = pthread_key_create(&exit_key, at_thread_exit) == 0;
	core_before_grow = before_grow;
}

/* The class of r, a size the cache can hold (a multiple of 16 up to
 * TC_BIG_MAX). */
static inline unsigned class_of(size_t r)
{
	return r <= TC_MAX_SIZE ? (unsigned)(r / 16) - 1 : tc_big_class(r);
}

/* The smallest block big class c holds. */
static inline size_t big_floor(unsigned c)
{
	return TC_MAX_SIZE + 16 + (size_t)(c - TC_CLASSES) * TC_BIG_STEP;
}

/* Bytes a thread's magazines hold at most, within its budget: a burst of
 * 1600 blocks of 16 bytes (25 KiB) takes 183 instructions a pair with 32
 * or 64 KiB, 194 with 16; of 112 bytes (175 KiB) 227 with 64, 239 with 32
 * (measured with the lists through the blocks that magazines replaced). */
#define TC_SPILL_BYTES (64 * 1024)

/* The size of an exact class c's blocks (c < TC_CLASSES). */
static inline size_t class_bytes(unsigned c)
{
	return (size_t)(c + 1) * 16;
}

/* Class c's k oldest blocks (the first k of its stack, which the caller
 * has taken) out of it, the rest moved down: their bytes, still counted in
 * t (a big class's sizes vary). */
static size_t drop_oldest(struct tcache *t, unsigned c, unsigned k)
{
	void **stack = t->slot + tc_base(c);
	unsigned n = t->count[c] - k;
	size_t bytes = 0;

	for (unsigned i = 0; i < n; i++)
		stack[i] = stack[k + i];
	if (c >= TC_CLASSES) {
		uint16_t *size = t->big_size[c - TC_CLASSES];

		for (unsigned i = 0; i < k; i++)
			bytes += size[i];
		for (unsigned i = 0; i < n; i++)
			size[i] = size[k + i];
	} else {
		bytes = k * class_bytes(c);
	}
	t->count[c] = (unsigned char)n;
	return bytes;
}

/* Class c's k oldest (whole magazines, as many as are free: the caller
 * has asked spill_room) into magazines, newest on top (c a slab class): a
 * burst of frees past the stack costs a copy per block, no lock and no
 * slab. */
static void spill(struct tcache *t, unsigned c, unsigned k)
{
	void **stack = t->slot + tc_base(c);

	for (unsigned i = 0; i < k; i += TC_MAG) {
		unsigned m = t->mag_free;

		if (m)
			t->mag_free = t->mag_below[m - 1];
		else
			m = ++t->mag_fresh;
		__builtin_memcpy(t->mag[m - 1], stack + i, sizeof t->mag[0]);
		t->mag_below[m - 1] = t->spill[c];
		t->spill[c] = (uint8_t)m;
	}
	drop_oldest(t, c, k);
	t->nspill[c] = (uint16_t)(t->nspill[c] + k);
	t->spill_bytes += k * class_bytes(c);
}

/* Whether k blocks of class c (whole magazines) may be spilled now: the
 * magazines in use are the classes' spilled blocks, whole magazines each
 * (summed here, once a spill, rather than kept beside them). */
static bool spill_room(const struct tcache *t, unsigned c, unsigned k)
{
	unsigned used = 0;

	for (unsigned i = 0; i < SLAB_CLASSES; i++)
		used += t->nspill[i];
	return (used + k) / TC_MAG <= TC_MAGS && t->spill_bytes + k * class_bytes(c) <= TC_SPILL_BYTES;
}

/* Up to k of class c's spilled blocks (whole magazines), into v, the
 * newest last (where a stack takes from): how many. They were the
 * cache's all along, in its own memory, so nothing is checked again. */
static unsigned unspill(struct tcache *t, unsigned c, void **v, unsigned k)
{
	unsigned j = t->nspill[c] / TC_MAG, n;

	if (j > k / TC_MAG)
		j = k / TC_MAG;
	n = j * TC_MAG;
	while (j--) {
		unsigned m = t->spill[c];

		__builtin_memcpy(v + j * TC_MAG, t->mag[m - 1], sizeof t->mag[0]);
		t->spill[c] = t->mag_below[m - 1];
		t->mag_below[m - 1] = t->mag_free;
		t->mag_free = (uint8_t)m;
	}
	t->nspill[c] = (uint16_t)(t->nspill[c] - n);
	t->spill_bytes -= n * class_bytes(c);
	return n;
}

/* Class c's spilled blocks back to their arenas, in batches, newest first,
 * until t holds at most keep bytes. */
static void flush_spill(struct tcache *t, unsigned c, size_t keep)
{
	void *v[TC_COUNT_SLAB];
	unsigned n;

	while (t->bytes > keep && (n = unspill(t, c, v, TC_COUNT_SLAB))) {
		t->bytes -= n * class_bytes(c);
		arena_give_back_many(v, n, true);
	}
}

/* Slot i of big class c, of z bytes, out of the cache; the newest fills its gap. */
static void *take(unsigned c, unsigned i, size_t z)
{
	struct tcache *t = tc;
	void **stack = t->slot + tc_base(c);
	void *p = stack[i];
	unsigned n = --t->count[c];

	stack[i] = stack[n];
	t->big_size[c - TC_CLASSES][i] = t->big_size[c - TC_CLASSES][n];
	t->bytes -= z;
	t->hits++;
	tc_unmark(p);
	return p;
}

/* tc_get of a class that holds a block: when its count of hits runs out
 * there, tc_tick starts it again and the block is taken all the same. */
static __attribute__((noinline)) void *tc_get_counted(size_t r)
{
	void *p = tc_get(r);

	if (!p) {
		tc_tick();
		p = tc_get(r);
	}
	return p;
}

/* Classes are searched upwards from r's own, newest block first: an exact
 * class's blocks all fit (tc_get). A block may be TC_FIT_SLACK(r) larger
 * at most, so a request the cache holds no block of its size for still
 * finds one a little larger instead of taking the lock; once the process
 * has threads, any block of r's own big class that holds r will do too (it
 * is at most 255 bytes larger). c is r's class. Calls nothing but in tail
 * position, so that the search saves no registers. */
static inline __attribute__((always_inline)) void *fit_search(struct tcache *t, size_t r, unsigned c)
{
	size_t most = r + TC_FIT_SLACK(r);
	unsigned own = __libc_single_threaded ? ~0u : c;   /* single-threaded, no class is its own */

	if (c < TC_CLASSES) {
		unsigned last = most > TC_MAX_SIZE ? TC_CLASSES - 1 : (unsigned)(most / 16) - 1;

		for (; c <= last; c++)
			if (t->count[c])
				return tc_get_counted(class_bytes(c));
		if (most <= TC_MAX_SIZE)
			return NULL;
	}
	for (; c < TC_CLASSES + TC_BIG_CLASSES && big_floor(c) <= most; c++) {
		for (unsigned i = t->count[c]; i--;) {
			size_t z = t->big_size[c - TC_CLASSES][i];

			if (z >= r && (c == own || z <= most))
				return take(c, i, z);
		}
	}
	return NULL;
}

/* Slab class c, empty, takes half a stack back from its magazines, the
 * newest; then the search as ever. */
static __attribute__((noinline)) void *fit_unspill(struct tcache *t, size_t r, unsigned c)
{
	t->count[c] = (unsigned char)unspill(t, c, t->slot + tc_base(c), TC_REFILL);
	if (t->count[c])
		return tc_get_counted(r);
	return fit_search(t, r, c);
}

void *tc_get_fit(size_t r)
{
	struct tcache *t = tc;
	unsigned c = class_of(r);

	if (c < SLAB_CLASSES && !t->count[c] && t->spill[c])
		return fit_unspill(t, r, c);
	return fit_search(t, r, c);
}

void tc_tick(void)
{
	struct tcache *t = tc;

	if (t == &tc_none)   /* its tick is 0: every call comes here, and goes */
		return;
	t->tick = TC_TICK;
	t->hits += TC_TICK;
	t->budget = budget(t);
	if (__libc_single_threaded)   /* threads have the purger */
		arena_decay_main();
}

/* Class c's k oldest blocks out of t into v (which has room): their bytes
 * are no longer t's. */
static unsigned take_oldest(struct tcache *t, unsigned c, unsigned k, void **v)
{
	void **stack = t->slot + tc_base(c);

	for (unsigned i = 0; i < k; i++)
		v[i] = stack[i];
	t->bytes -= drop_oldest(t, c, k);
	return k;
}

/* Class c of t gives its k oldest back (under one lock per arena,
 * arena_give_back_many): a burst of frees pays the arena's way once in k
 * instead of each time, and the newest stay. */
static void flush_oldest(struct tcache *t, unsigned c, unsigned k)
{
	void *v[TC_COUNT_SLAB];

	/* The slab classes hold only slab objects (tc_keep). */
	arena_give_back_many(v, take_oldest(t, c, k, v), c < SLAB_CLASSES);
}

/* t has no room for r more bytes: its spilled blocks go back, then what
 * each slab class holds past TC_COUNT, then the older half of each class,
 * the largest classes first, until a quarter of the budget is free beyond
 * r. Rather than the block just freed (the likeliest to be asked for
 * again, and warm in the caches) going to the arena alone, as did every
 * free past the budget before, and the cache keeping its oldest. The
 * classes' halves go back together, under one lock: in a churn of 16-4096
 * bytes a class holds a block or two, and a lock for each made 6% of the
 * instructions. */
static void make_room(struct tcache *t, size_t r)
{
	size_t goal = t->budget - t->budget / 4;
	void *v[8 * TC_COUNT];   /* the heap classes' halves */
	unsigned n = 0;

	/* Spilled blocks first: past their stacks, the least likely to be asked for soon. */
	for (unsigned c = 0; t->spill_bytes && c < SLAB_CLASSES && t->bytes + r > goal; c++)
		if (t->spill[c])
			flush_spill(t, c, goal > r ? goal - r : 0);
	/* Then a slab class's objects deeper than a heap class's stack: a slab
	 * gives them back for a few instructions each, where a heap block the
	 * cache lets go costs its next malloc the arena's lock and a search.
	 * With stacks of 128 the slab objects had come to hold the budget: a
	 * churn of 16 B-8 KiB blocks (live_heap, 1e4 live) cost 658 instructions
	 * a replacement, 628 this way; 16-4096 B (churn mixed) 612 and 583. */
	for (unsigned c = SLAB_CLASSES; c-- && t->bytes + r > goal;)
		if (t->count[c] > TC_COUNT)
			flush_oldest(t, c, t->count[c] - TC_COUNT);
	for (unsigned c = TC_CLASSES + TC_BIG_CLASSES; c-- && t->bytes + r > goal;) {
		if (!t->count[c])
			continue;
		if (c < SLAB_CLASSES) {   /* slab objects: a batch of their own */
			flush_oldest(t, c, (t->count[c] + 1u) / 2);
			continue;
		}
		if (n + TC_COUNT > sizeof v / sizeof v[0]) {
			arena_give_back_many(v, n, false);
			n = 0;
		}
		n += take_oldest(t, c, (t->count[c] + 1u) / 2, v + n);
	}
	if (n)
		arena_give_back_many(v, n, false);
}

void tc_refill(struct arena *a, size_t r)
{
	struct tcache *t = tc;
	unsigned c = class_of(r);
	void *v[TC_REFILL];
	unsigned want = TC_REFILL, got;

	if (t == &tc_none) {
		if (++lone_takes != TC_OPEN_AFTER || tc_off || !__libc_single_threaded || !tc_open())
			return;
		t = tc;
	}
	if (tc_off || t->slab_key != slab_key(a) || t->count[c] >= want)   /* tc_none's names no arena */
		return;
	want -= t->count[c];
	if (t->bytes + want * r > t->budget)
		want = t->budget > t->bytes ? (unsigned)((t->budget - t->bytes) / r) : 0;
	got = want ? slab_alloc_more(a, r, v, want) : 0;
	for (unsigned i = 0; i < got; i++)
		tc_push(t, v[i], r, c);
}

/* What tc_put leaves to here: full classes (which give their oldest back
 * first, but not under an arena's lock), the big classes, and the byte
 * budget, weighed again from the counts (which decay) each time a put would
 * exceed it, as tc_put's inline test sees it; a thread's first put (its
 * budget still 0) also arms the flush at its exit. */
bool tc_put_slow(void *p, size_t r)
{
	unsigned c = class_of(r);
	struct tcache *t;

	/* A thread's first free of a block of its arena opens its cache, what
	 * ever the size: a heap block the cache does not take waits there too. */
	if (tc_off || (tc == &tc_none && !tc_open()))
		return false;
	t = tc;
	if (tc_past_classes(r))
		return false;
	if (t->count[c] >= tc_cap(c)) {
		/* Under an arena's lock (drain_remote's tc_keep) a full class that
		 * cannot spill stays full: its flush would take that lock again. */
		if (c < SLAB_CLASSES && spill_room(t, c, TC_FLUSH(c)))
			spill(t, c, TC_FLUSH(c));
		else if (arena_held)
			return false;
		else
			flush_oldest(t, c, TC_FLUSH(c));
	}
	if (t->puts >= 1u << 16) {
		t->puts /= 2;
		t->hits /= 2;
	}
	if (t->bytes + r > t->budget) {
		t->budget = budget(t);
		if (t->bytes + r > t->budget && !arena_held)
			make_room(t, r);
		if (t->bytes + r > t->budget)
			return false;
	}
	if (c >= TC_CLASSES)
		t->big_size[c - TC_CLASSES][t->count[c]] = (uint16_t)r;
	return tc_push(t, p, r, c);
}

/* core_before_grow: the thread's cached heap blocks of a back into a, whose
 * lock it holds (others' stay). Without it a cache's blocks held memory the
 * heap then grew by, for as long as they stayed there: realloc_grow's heap
 * peaked at 4.57 MB without it and 4.16 MB with it, at 17.19 and 16.97 MiB
 * peak RSS (churn mixed the same either way). Slab objects stay: only a
 * whole empty slab would give the heap a page. A class's blocks leave it
 * before they go (a report that unwinds leaves none here twice). */
static bool before_grow(struct arena *a)
{
	struct tcache *t = tc;
	bool any = false;

	if (t == &tc_none)
		return false;
	for (unsigned c = SLAB_CLASSES; c < TC_CLASSES + TC_BIG_CLASSES; c++) {
		void **stack = t->slot + tc_base(c), *v[TC_COUNT];
		unsigned n = t->count[c], k = 0, m = 0;

		for (unsigned i = 0; i < n; i++) {
			size_t z = c >= TC_CLASSES ? t->big_size[c - TC_CLASSES][i] : class_bytes(c);

			if (heap_arena_of(stack[i]) == a) {
				v[m++] = stack[i];
				t->bytes -= z;
				continue;
			}
			if (c >= TC_CLASSES)
				t->big_size[c - TC_CLASSES][k] = (uint16_t)z;
			stack[k++] = stack[i];
		}
		t->count[c] = (unsigned char)k;
		for (unsigned i = 0; i < m; i++)
			arena_free_locked(a, NULL, v[i]);
		any |= m != 0;
	}
	return any;
}

void tc_release_deferred(struct arena *a)
{
	struct tcache *t = tc;

	/* Each taken off before it goes: a report that unwinds (issue 12)
	 * leaves no block here twice. */
	while (t->ndefer) {
		void *p = t->defer[--t->ndefer];
		struct arena *owner = heap_arena_of(p);

		if (owner == a)
			arena_free_locked(a, NULL, p);
		else
			core_remote_push(owner, p);
	}
	t->defer_bytes = 0;
}

void tc_bound(void)
{
	if (tc != &tc_none)
		tc->slab_key = thread_key(arena_bound);
}

/* t's magazines, all free after a flush, untouched again: their pages go
 * back (but the first, which other fields share) and the next spill starts
 * from the first. A cache retired to the pool, or flushed by malloc_trim,
 * would otherwise keep up to 16 KiB resident where the lists through the
 * blocks had kept nothing (32 threads that had spilled 4000 blocks each:
 * 3.4 MiB resident after they exited, 4.4 MiB without this, 900 KiB of it
 * magazines' pages in the pool). */
static void mags_purge(struct tcache *t)
{
	uintptr_t from = page_up((uintptr_t)t->mag), to = page_up((uintptr_t)(t->mag + t->mag_fresh));

	if (!t->mag_fresh || t->spill_bytes)   /* none used, or some still hold blocks */
		return;
	if (to > from)
		map_purge((void *)from, to - from);
	t->mag_fresh = t->mag_free = 0;
}

void tc_flush(void)
{
	struct tcache *t = tc;

	if (t == &tc_none)
		return;
	/* A class at a time, under one lock per arena (one trim, not one per
	 * block: a thread's exit had trimmed its arena's top again at each
	 * block). Each class is emptied before it goes: a report that unwinds
	 * (issue 12) leaves no block here twice. */
	for (unsigned c = 0; c < SLAB_CLASSES; c++)
		if (t->spill[c])
			flush_spill(t, c, 0);
	for (unsigned c = 0; c < TC_CLASSES + TC_BIG_CLASSES; c++) {
		unsigned n = t->count[c];

		if (n) {
			t->count[c] = 0;
			arena_give_back_many(t->slot + tc_base(c), n, c < SLAB_CLASSES);
		}
	}
	t->bytes = 0;
	if (t->ndefer) {
		unsigned n = t->ndefer;

		t->ndefer = 0;
		t->defer_bytes = 0;
		arena_give_back_many(t->defer, n, false);
	}
	mags_purge(t);
}
