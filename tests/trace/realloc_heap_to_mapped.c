/* SPEC rules 19, 9, 21.4, 11.5, 15: crossing the threshold in both directions.
 * a=100: +0x20 (hdr +0x0); g=8: hdr +0x88 -> +0xa8; rest +0xb0 (130864).
 * realloc(a, 131032): heap (131064 < 131072); next g ALLOC -> move: nothing
 *   fits, the last block (rest) is FREE -> grow by 131032-130864 = 168 =
 *   0xa8: brk(+0x200a8) -> +0xd0; old a FREE.
 * realloc(a, 131033): s=131040 -> mapped: mmap(131072)=M1; the heap block
 *   becomes FREE (no munmap, no brk).
 * malloc(131032): exact fit on that block -> +0xd0. malloc(100) -> +0x20.
 * realloc(a, 50): mapped -> heap, as malloc(50): s=56, nothing free, last
 *   ALLOC -> sbrk(88 = 0x58): brk(+0x20100) -> +0x200c8; then munmap(M1).
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *x, *y;

	T_MALLOC(a, 100);
	T_MALLOC(g, 8);
	T_FILL(a, 100, 1);
	T_REALLOC(a, a, 131032);
	T_CHECK(a, 100, 1);
	T_REALLOC(a, a, 131033);
	T_CHECK(a, 100, 1);
	T_META(a);
	T_MALLOC(x, 131032);
	T_MALLOC(y, 100);
	T_REALLOC(a, a, 50);
	T_CHECK(a, 50, 1);
	return 0;
}
