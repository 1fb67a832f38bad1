/* SPEC rule 22 (7, 19): running out of memory is the only NULL for a valid
 * block and n > 0, and the old block is then untouched (no munmap, still
 * ALLOC/MAPPED, data kept). 1 << 47 bytes (128 TiB, the whole user address
 * space) cannot be mapped whatever the overcommit setting: the one mmap of
 * s + 32 = 140737488355360 bytes fails with ENOMEM.
 * a=100: first use -> +0x20; m=200000: mmap(200032)=M1.
 */
#include "trace.h"

int main(void)
{
	void *a, *m, *r;

	T_MALLOC(a, 100);
	T_FILL(a, 100, 1);
	T_REALLOC(r, a, (size_t)1 << 47);
	T_META(a);
	T_CHECK(a, 100, 1);
	T_MALLOC(m, 200000);
	T_FILL(m, 200000, 2);
	T_REALLOC(r, m, (size_t)1 << 47);
	T_META(m);
	T_CHECK(m, 200000, 2);
	T_MALLOC(r, (size_t)1 << 47);
	T_CALLOC(r, (size_t)1 << 47, 1);
	T_FREE(m);
	T_FREE(a);
	return 0;
}
