/* SPEC rules 19, 7: a mapped block is never resized in place; the new block
 * (mmap or brk) comes first, the munmap of the old one after.
 * m=malloc(200000): mmap(200032)=M1.
 * realloc(m, 200000): same size, still a new mmap(200032)=M2, munmap(M1).
 * realloc(m, 199999): s=200000: mmap(200032)=M3, munmap(M2).
 * realloc(m, 300000): mmap(300032)=M4, munmap(M3, 200032).
 * realloc(m, 131033): s=131040: mmap(131072)=M5, munmap(M4, 300032).
 * realloc(m, 131032): heap, first use: brk(0), brk(+0x20000) -> +0x20 (whole
 *   prealloc, size 131040), then munmap(M5, 131072).
 */
#include "trace.h"

int main(void)
{
	void *m;

	T_MALLOC(m, 200000);
	T_FILL(m, 200000, 1);
	T_REALLOC(m, m, 200000);
	T_CHECK(m, 200000, 1);
	T_REALLOC(m, m, 199999);
	T_CHECK(m, 199999, 1);
	T_REALLOC(m, m, 300000);
	T_CHECK(m, 200000, 1);
	T_META(m);
	T_REALLOC(m, m, 131033);
	T_CHECK(m, 131033, 1);
	T_REALLOC(m, m, 131032);
	T_CHECK(m, 131032, 1);
	T_META(m);
	return 0;
}
