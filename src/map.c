/* The only file that calls mmap, munmap, mremap and mprotect: mapped blocks
 * (SPEC rule 7), the regions heap.c turns into segments when brk fails, and
 * the reserved regions the other arenas grow in. mremap is for the drop-in
 * alone (map_resize): os_* never call it (SPEC rule 5). Live mapped blocks
 * form one list for the process through their prev/next fields, so the
 * checker and the statistics can see them; a lock of its own guards it,
 * since threads of different arenas map and unmap at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
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

void map_lock(void) { pthread_mutex_lock(&list_lock); }
void map_unlock(void) { pthread_mutex_unlock(&list_lock); }
void map_fork_child(void) { pthread_mutex_init(&list_lock, NULL); }

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

struct block_meta *map_block(size_t s)
{
	struct block_meta *b = map_region(s + HDR);

	if (!b)
		return NULL;
	map_lock();
	block_init(b, s, STATUS_MAPPED, 0, NULL, mapped);
	if (mapped)
		mapped->prev = b;
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
	nmapped--;
	map_counters.mapped_bytes -= b->size + HDR;
	map_unlock();
	/* Unlinked first: a block that stays mapped is no longer ours, so a
	 * second free of it is reported, not unmapped later by surprise. */
	return unmap(b, b->size + HDR, "a mapped block");
}

bool map_listed(struct block_meta *b)
{
	bool on;

	map_lock();
	on = b->prev ? b->prev->next == b : mapped == b;
	map_unlock();
	return on;
}

size_t map_capacity(size_t s)
{
	size_t page = (size_t)getpagesize();

	return ((s + HDR + page - 1) & ~(page - 1)) - HDR;
}

struct block_meta *map_resize(struct block_meta *b, size_t s)
{
	struct block_meta *nb;

	s = map_capacity(s);
	if (s == map_capacity(b->size)) {   /* the same pages: nothing to ask */
		b->size = s;
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
	}
	map_counters.mapped_bytes -= nb->size + HDR;
	stats_grew(&map_counters.mapped_bytes, &map_counters.mapped_peak, s + HDR);
	nb->size = s;
	map_unlock();
	return nb;
}

struct block_meta *map_blocks(void) { return mapped; }
size_t map_count(void) { return __atomic_load_n(&nmapped, __ATOMIC_RELAXED); }
