/* SPEC rules 21.2, 12, 19, 11.1: realloc inside the preallocated block.
 * a=malloc(100): first use -> +0x20; rest +0x88 (130904).
 * realloc(a, 131000): absorb the rest: 104+32+130904 = 131040, 40 left ->
 *   split: FREE 8 at 0x20+0x1ffb8 = +0x1ffd8 -> +0x20, no syscall.
 * realloc(a, 131032): absorb the 8: 131040, 8 left: no split -> +0x20.
 * realloc(a, 131033): mapped: mmap(131072)=M1; the heap block becomes FREE.
 * malloc(131032): -> +0x20, no syscall.
 */
#include "trace.h"

int main(void)
{
	void *a, *b;

	T_MALLOC(a, 100);
	T_FILL(a, 100, 1);
	T_REALLOC(a, a, 131000);
	T_CHECK(a, 100, 1);
	T_META_AT(a, 131000);
	T_REALLOC(a, a, 131032);
	T_CHECK(a, 100, 1);
	T_META(a);
	T_REALLOC(a, a, 131033);
	T_CHECK(a, 100, 1);
	T_MALLOC(b, 131032);
	return 0;
}
