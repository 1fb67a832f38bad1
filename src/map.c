/* The only file that calls mmap, munmap and mremap: mapped blocks (SPEC rule
 * 7) and the regions heap.c turns into segments when brk fails. mremap is
 * for the drop-in alone (map_resize): os_* never call it (SPEC rule 5). Live mapped blocks
 * form a list through their prev/next fields, so the checker and the
 * statistics can see them. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

void *(*map_mmap_fn)(void *, size_t, int, int, int, off_t) = mmap;
int (*map_munmap_fn)(void *, size_t) = munmap;

static struct block_meta *mapped;
static size_t nmapped;

void *map_region(size_t len)
{
	void *p = map_mmap_fn(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	stats_counters.mmap_calls++;
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void map_region_release(void *p, size_t len)
{
	stats_counters.munmap_calls++;
	if (map_munmap_fn(p, len) != 0)
		diag_die("osmem: munmap(%p, %zu) of our own region failed\n", p, len);
}

struct block_meta *map_block(size_t s)
{
	struct block_meta *b = map_region(s + HDR);

	if (!b)
		return NULL;
	block_init(b, s, STATUS_MAPPED, 0, NULL, mapped);
	if (mapped)
		mapped->prev = b;
	mapped = b;
	nmapped++;
	stats_grew(&stats_counters.mapped_bytes, &stats_counters.mapped_peak, s + HDR);
	return b;
}

void map_release(struct block_meta *b)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		mapped = b->next;
	if (b->next)
		b->next->prev = b->prev;
	nmapped--;
	stats_counters.mapped_bytes -= b->size + HDR;
	stats_counters.munmap_calls++;
	/* Failing to unmap our own block means the header lied: a bug, not a shortage. */
	if (map_munmap_fn(b, b->size + HDR) != 0)
		diag_die("osmem: munmap(%p, %zu) of a mapped block failed\n", (void *)b, b->size + HDR);
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
	nb = mremap(b, b->size + HDR, s + HDR, MREMAP_MAYMOVE);
	stats_counters.mremap_calls++;
	if (nb == MAP_FAILED) {
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
	stats_counters.mapped_bytes -= nb->size + HDR;
	stats_grew(&stats_counters.mapped_bytes, &stats_counters.mapped_peak, s + HDR);
	nb->size = s;
	return nb;
}

struct block_meta *map_blocks(void) { return mapped; }
size_t map_count(void) { return nmapped; }
