/* SPEC rules 9, 4, 7, 3, 15, 11.6.
 * malloc(131032): s+32 = 131064 < 131072 -> heap (whole prealloc, slack 8,
 *   size 131040).
 * malloc(131033): s = 131040, s+32 = 131072 >= 131072 -> mmap(131072).
 * malloc(131072): mmap(131104).
 * malloc(131025): A = 131032 (rounded BEFORE the compare) -> heap; nothing
 *   free, last ALLOC -> sbrk(131032+32 = 131064 = 0x1fff8): brk(+0x3fff8),
 *   block at +0x20000 -> +0x20020.
 * malloc(131040): s+32 = 131072 -> mmap(131072).
 * free: mapped -> munmap(hdr, size+32); heap -> no syscall.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *f;

	T_MALLOC(a, 131032);
	T_META(a);
	T_MALLOC(b, 131033);
	T_META(b);
	T_MALLOC(c, 131072);
	T_META(c);
	T_MALLOC(d, 131025);
	T_META(d);
	T_MALLOC(f, 131040);
	T_FREE(b);
	T_FREE(c);
	T_FREE(f);
	T_FREE(d);
	T_FREE(a);
	return 0;
}
