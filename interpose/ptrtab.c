/* Tables of live blocks keyed by address, for leaks.c (each block's
 * allocation stack and sizes) and guard.c (OSMEM_CHECK's guards).
 *
 * Open addressing with linear probing, in memory of their own (map_region:
 * never the heap they describe), doubled when half full; removal shifts the
 * later entries of a probe run back, so no tombstones. Entries are t->esize
 * bytes and start with the key, 0 marking an empty slot. No lock: each user
 * holds its own around every call. */
#include <string.h>

#include "insight.h"

uint64_t ptrtab_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static size_t home(const struct ptrtab *t, uintptr_t key)
{
	return ptrtab_mix(key) & (t->cap - 1);
}

static bool grow(struct ptrtab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 4096;
	struct ptrtab n = { map_region(cap * t->esize), t->esize, t->used, cap };   /* zero-filled */

	if (!n.slots)
		return false;
	for (size_t i = 0; i < t->cap; i++) {
		char *e = ptrtab_slot(t, i);
		if (!e)
			continue;
		size_t j = home(&n, *(uintptr_t *)e);
		while (ptrtab_slot(&n, j))
			j = (j + 1) & (cap - 1);
		memcpy(n.slots + j * n.esize, e, t->esize);
	}
	if (t->slots)
		map_region_release(t->slots, t->cap * t->esize);
	*t = n;
	return true;
}

void *ptrtab_find(const struct ptrtab *t, uintptr_t key)
{
	if (!t->cap)
		return NULL;
	for (size_t j = home(t, key);; j = (j + 1) & (t->cap - 1)) {
		uintptr_t *e = ptrtab_slot(t, j);
		if (!e || *e == key)
			return e;
	}
}

void *ptrtab_put(struct ptrtab *t, uintptr_t key, bool *fresh)
{
	uintptr_t *e;
	size_t j;

	if ((t->used + 1) * 2 > t->cap && !grow(t))
		return NULL;
	for (j = home(t, key); (e = ptrtab_slot(t, j)) && *e != key; j = (j + 1) & (t->cap - 1))
		;
	*fresh = !e;
	if (!e) {
		e = (uintptr_t *)(t->slots + j * t->esize);
		*e = key;
		t->used++;
	}
	return e;
}

void ptrtab_remove(struct ptrtab *t, void *entry)
{
	size_t j = (size_t)((char *)entry - t->slots) / t->esize, k;
	uintptr_t *e;

	*(uintptr_t *)entry = 0;
	t->used--;
	for (k = (j + 1) & (t->cap - 1); (e = ptrtab_slot(t, k)); k = (k + 1) & (t->cap - 1)) {
		/* An entry moves back into the hole unless its home lies after it. */
		if (((k - home(t, *e)) & (t->cap - 1)) >= ((k - j) & (t->cap - 1))) {
			memcpy(t->slots + j * t->esize, e, t->esize);
			*e = 0;
			j = k;
		}
	}
}
