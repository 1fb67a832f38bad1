/* SPEC rules 21.2, 20, 12, 19: one block realloc'd through small, medium and
 * large sizes and back. a=malloc(8): first use -> +0x20 (hdr +0x0).
 * Growing: a is followed by the FREE rest each time -> absorb it (131040 in
 * all), split off the remainder: 16, 64, 1000, 4000, 50000 -> +0x20.
 * 131032: absorb -> 131040, 8 left: no split -> +0x20.
 * 131033: mapped -> mmap(131072)=M1, the heap block is FREE.
 * 500000: mapped -> mmap(500032)=M2, munmap(M1, 131072).
 * 1000: heap: best fit the 131040 block, split -> +0x20; munmap(M2, 500032).
 * Shrinking: 500, 100, 8 -> +0x20, each split (remainders merge with the rest).
 * malloc(8): -> 0x20+8+0x20 = +0x48 (the rest starts at +0x28).
 */
#include "trace.h"

int main(void)
{
	void *a, *b;

	T_MALLOC(a, 8);
	T_FILL(a, 8, 1);
	T_REALLOC(a, a, 16);
	T_REALLOC(a, a, 64);
	T_REALLOC(a, a, 1000);
	T_REALLOC(a, a, 4000);
	T_REALLOC(a, a, 50000);
	T_CHECK(a, 8, 1);
	T_META(a);
	T_REALLOC(a, a, 131032);
	T_META(a);
	T_REALLOC(a, a, 131033);
	T_REALLOC(a, a, 500000);
	T_REALLOC(a, a, 1000);
	T_CHECK(a, 8, 1);
	T_REALLOC(a, a, 500);
	T_REALLOC(a, a, 100);
	T_REALLOC(a, a, 8);
	T_CHECK(a, 8, 1);
	T_META(a);
	T_MALLOC(b, 8);
	return 0;
}
