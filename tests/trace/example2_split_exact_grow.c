/* SPEC worked example 2. Rules: 6, 11.1, 11.3, 11.4, 11.5, 11.6, 12, 15.
 *
 * malloc(1000): s=1000=0x3e8, hdr +0x0 -> +0x20; rest at 0x20+0x3e8 = +0x408,
 *   size 131040 - 1000 - 32 = 130008.
 * malloc(129968): s=129968=0x1fbb0; 130008 - 129968 = 40 >= 40 -> split:
 *   -> 0x408+0x20 = +0x428; rest at 0x428+0x1fbb0 = +0x1ffd8, size 8.
 * malloc(1): s=8, best fit is the 8-byte block, exact -> 0x1ffd8+0x20 = +0x1fff8.
 * malloc(1): nothing free, last block (+0x1ffd8) ALLOC -> sbrk(8+32=0x28):
 *   brk(+0x20028); block at +0x20000 -> +0x20020.
 * free it; malloc(100): s=104; the only FREE block (8) does not fit; it is the
 *   last block -> grow by 104-8 = 96 = 0x60: brk(+0x20088) -> +0x20020.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e;

	T_MALLOC(a, 1000);
	T_META_AT(a, 1000);
	T_MALLOC(b, 129968);
	T_META_AT(b, 129968);
	T_MALLOC(c, 1);
	T_META(c);
	T_MALLOC(d, 1);
	T_FREE(d);
	T_MALLOC(e, 100);
	T_META(e);
	return 0;
}
