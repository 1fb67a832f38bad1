/* The only file that calls mmap, munmap, mremap, mprotect and madvise: mapped blocks
 * (SPEC rule 7), the regions heap.c turns into segments when brk fails, and
 * the reserved regions the other arenas grow in. mremap is for the drop-in
 * alone (map_resize): os_* never call it (SPEC rule 5). Live mapped blocks
 * form one list for the process through their prev/next fields, so the
 * checker and the statistics can see them; a lock of its own guards it,
 * since threads of different arenas map and unmap at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/single_threaded.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

void *(*map_mmap_fn)(void *, size_t, int, int, int, off_t) = mmap;
int (*map_munmap_fn)(void *, size_t) = munmap;

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block_meta *mapped;     /* under list_lock */
static size_t nmapped;
struct counters map_counters;         /* syscall counts: atomic adds; bytes: under list_lock */

/* One bit per MAP_REGION of the address space: set while a reserved arena
 * region starts there (256 KiB of zero pages, touched only where arenas are). */
#define REGION_BITS (1UL << (47 - MAP_REGION_SHIFT))
uint64_t map_region_bits[REGION_BITS / 64];

static void count(size_t *calls)
{
	__atomic_fetch_add(calls, 1, __ATOMIC_RELAXED);
}

/* Taken only once the process has threads: glibc clears
 * __libc_single_threaded before a second thread starts, and no thread can
 * start while the only one is inside this file. A realloc of a mapped block
 * that stays in its pages took the mutex twice each way (realloc_grow:
 * 379,406 such reallocs in 10 rounds, each 340 instructions, a quarter of
 * them the mutex's). The unlock follows what the lock did, not the flag:
 * glibc's manual allows the flag to turn true again once the other threads
 * are gone, which may happen while this thread holds the mutex. */
static TLS_IE bool list_held;

void map_lock(void)
{
	if (!__libc_single_threaded) {
		pthread_mutex_lock(&list_lock);
		list_held = true;
	}
}
void map_unlock(void)
{
	if (list_held) {
		list_held = false;
		pthread_mutex_unlock(&list_lock);
	}
}
void map_fork_child(void)
{
	pthread_mutex_init(&list_lock, NULL);
	list_held = false;
}

void *map_region(size_t len)
{
	void *p = map_mmap_fn(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	count(&map_counters.mmap_calls);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

/* munmap of a mapping of ours. It fails with ENOMEM when the unmap would split
 * a mapping the kernel merged with its neighbours while the process is at
 * vm.max_map_count: not the program's error (SPEC 29), so the memory stays
 * mapped, lost, errno unchanged, and false comes back. Any other failure
 * means our length or address lied: a bug. */
static bool unmap(void *p, size_t len, const char *what)
{
	int saved = errno;

	count(&map_counters.munmap_calls);
	if (map_munmap_fn(p, len) == 0)
		return true;
	if (errno != ENOMEM)
		diag_die("osmem: munmap(%p, %zu) of %s failed\n", p, len, what);
	errno = saved;
	return false;
}

void map_region_release(void *p, size_t len)
{
	unmap(p, len, "our own region");
}

void *map_reserve(void)
{
	char *p = map_mmap_fn(NULL, 2 * MAP_REGION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *base;
	uintptr_t i;

	count(&map_counters.mmap_calls);
	if (p == MAP_FAILED)
		return NULL;
	/* Twice the size, then the unaligned ends cut off: an aligned region. */
	base = (char *)(((uintptr_t)p + MAP_REGION - 1) & ~(MAP_REGION - 1));
	if (base > p)
		map_region_release(p, (size_t)(base - p));
	map_region_release(base + MAP_REGION, (size_t)(p + 2 * MAP_REGION - base - MAP_REGION));
	i = (uintptr_t)base >> MAP_REGION_SHIFT;
	if (i >= REGION_BITS) {   /* beyond what the bitmap covers: not usable */
		map_region_release(base, MAP_REGION);
		return NULL;
	}
	__atomic_fetch_or(&map_region_bits[i / 64], 1ULL << (i % 64), __ATOMIC_RELEASE);
	return base;
}

void map_unreserve(void *base)
{
	uintptr_t i = (uintptr_t)base >> MAP_REGION_SHIFT;

	__atomic_fetch_and(&map_region_bits[i / 64], ~(1ULL << (i % 64)), __ATOMIC_RELEASE);
	map_region_release(base, MAP_REGION);
}

bool map_commit(void *p, size_t len)
{
	count(&map_counters.mprotect_calls);
	return mprotect(p, len, PROT_READ | PROT_WRITE) == 0;
}

void map_decommit(void *p, size_t len)
{
	/* A fresh PROT_NONE mapping over the range drops its pages and its
	 * commit charge at once; failing, it stays usable memory. */
	count(&map_counters.mmap_calls);
	(void)map_mmap_fn(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
}

void map_purge(void *p, size_t len)
{
	(void)madvise(p, len, MADV_DONTNEED);   /* refused, the pages stay: not an error */
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14; older kernels refuse it (EINVAL) */
#endif

void map_populate(void *p, size_t len)
{
	/* madvise wants whole pages */
	char *from = (char *)page_down((uintptr_t)p), *to = (char *)page_up((uintptr_t)p + len);
	int saved = errno;

	/* Refused (a kernel before 5.14: EINVAL), the copy faults the pages in
	 * as it writes them; the realloc that succeeds leaves errno alone. */
	if (madvise(from, (size_t)(to - from), MADV_POPULATE_WRITE) != 0)
		errno = saved;
}

/* A mapped block's tag holds, where others hold BLOCK_MAGIC, a keyed hash of
 * its address, size and list links (issue 12): list membership already says
 * the block is ours, and the hash says nobody has changed what free trusts
 * (the length it unmaps, the links it unlinks by). Written and read under
 * list_lock, since a neighbour's links change with it. */
static uint32_t seal_of(const struct block_meta *b)
{
	uint64_t h = ((uintptr_t)b ^ link_secret) * 0x9e3779b97f4a7c15ULL;

	h = (h ^ b->size) * 0xff51afd7ed558ccdULL;
	h = (h ^ (uintptr_t)b->prev) * 0xc4ceb9fe1a85ec53ULL;
	h = (h ^ (uintptr_t)b->next) * 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 32) & BLOCK_MAGIC_MASK;
}

static void seal(struct block_meta *b)
{
	if (b)
		*block_tag(b) = seal_of(b) | (*block_tag(b) & ~BLOCK_MAGIC_MASK);
}

static bool sealed(const struct block_meta *b)
{
	return b->status == STATUS_MAPPED && !(*block_tag((struct block_meta *)b) & BLOCK_PROXY) &&
	       (*block_tag((struct block_meta *)b) & BLOCK_MAGIC_MASK) == seal_of(b);
}

struct block_meta *map_block(size_t s)
{
	struct block_meta *b = map_region(s + HDR);

	if (!b)
		return NULL;
	map_lock();
	block_init(b, s, STATUS_MAPPED, 0, NULL, mapped);
	if (mapped)
		mapped->prev = b;
	seal(mapped);
	seal(b);
	mapped = b;
	nmapped++;
	stats_grew(&map_counters.mapped_bytes, &map_counters.mapped_peak, s + HDR);
	map_unlock();
	return b;
}

bool map_release(struct block_meta *b)
{
	map_lock();
	if (b->prev)
		b->prev->next = b->next;
	else
		mapped = b->next;
	if (b->next)
		b->next->prev = b->prev;
	seal(b->prev);
	seal(b->next);
	nmapped--;
	map_counters.mapped_bytes -= b->size + HDR;
	map_unlock();
	/* Unlinked first: a block that stays mapped is no longer ours, so a
	 * second free of it is reported, not unmapped later by surprise. */
	return unmap(b, b->size + HDR, "a mapped block");
}

enum map_state map_state_of(struct block_meta *b)
{
	enum map_state st = MAP_NOT_OURS;

	map_lock();
	if (sealed(b)) {
		if (b->prev ? b->prev->next == b : mapped == b)
			st = MAP_LIVE;
	} else {
		/* Rare (a foreign pointer, or damage): the list itself says,
		 * each block on the way trusted only once its seal holds. */
		for (struct block_meta *m = mapped; m; m = sealed(m) ? m->next : NULL)
			if (m == b) {
				st = MAP_DAMAGED;
				break;
			}
	}
	map_unlock();
	return st;
}

size_t map_capacity(size_t s)
{
	return page_up(s + HDR) - HDR;
}

/* b, a mapped block, now holds payload s: counted (mapped_bytes follows
 * every block's size, or a block freed after growing in its pages would
 * take more off it than it added) and sealed. Under map_lock. */
static void resized(struct block_meta *b, size_t s)
{
	map_counters.mapped_bytes -= b->size + HDR;
	stats_grew(&map_counters.mapped_bytes, &map_counters.mapped_peak, s + HDR);
	b->size = s;
	seal(b);
}

struct block_meta *map_resize(struct block_meta *b, size_t s)
{
	struct block_meta *nb;

	s = map_capacity(s);
	if (s == map_capacity(b->size)) {   /* the same pages: nothing to ask */
		if (s != b->size) {          /* else sized to them already */
			map_lock();
			resized(b, s);
			map_unlock();
		}
		return b;
	}
	/* Under the lock: the list's links into b move with it. */
	map_lock();
	nb = mremap(b, b->size + HDR, s + HDR, MREMAP_MAYMOVE);
	count(&map_counters.mremap_calls);
	if (nb == MAP_FAILED) {
		map_unlock();
		errno = ENOMEM;
		return NULL;
	}
	if (nb != b) {
		if (nb->prev)
			nb->prev->next = nb;
		else
			mapped = nb;
		if (nb->next)
			nb->next->prev = nb;
		seal(nb->prev);
		seal(nb->next);
	}
	resized(nb, s);
	map_unlock();
	return nb;
}

struct block_meta *map_blocks(void) { return mapped; }
size_t map_count(void) { return __atomic_load_n(&nmapped, __ATOMIC_RELAXED); }

bool map_sealed_locked(const struct block_meta *b) { return sealed(b); }
