/* SPEC rules 11.3, 11.4, 12, 3, 15: reuse of a freed block.
 *   a=100 (s 104=0x68): hdr +0x0  -> +0x20, next +0x88
 *   b=200 (s 200=0xc8): hdr +0x88 -> +0xa8, next +0x170
 *   c=300 (s 304=0x130): hdr +0x170 -> +0x190, next (rest) +0x2c0
 * free b (200, between two ALLOC blocks).
 * malloc(200): exact fit -> +0xa8.                              free.
 * malloc(180): s=184, 200-184 = 16 < 40: no split, keeps size 200. free.
 * malloc(160): 200-160 = 40: split, size 160, FREE 8 at 0xa8+0xa0 = +0x148.
 * malloc(8): exact fit on that 8 -> 0x148+0x20 = +0x168.
 * malloc(8): only the rest is free -> hdr +0x2c0 -> +0x2e0.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e, *f, *g, *h;

	T_MALLOC(a, 100);
	T_MALLOC(b, 200);
	T_MALLOC(c, 300);
	T_FREE(b);
	T_MALLOC(d, 200);
	T_FREE(d);
	T_MALLOC(e, 180);
	T_META(e);
	T_FREE(e);
	T_META(e);
	T_MALLOC(f, 160);
	T_META(f);
	T_META_AT(f, 160);
	T_MALLOC(g, 8);
	T_MALLOC(h, 8);
	return 0;
}
