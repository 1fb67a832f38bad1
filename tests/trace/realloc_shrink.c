/* SPEC rules 20, 12, 3, 5 (the break never lowers), 11.2.
 * a=200 (0xc8): hdr +0x0 -> +0x20; g=8: hdr +0xe8 -> +0x108; rest +0x110
 *   (131040-272 = 130768).
 * realloc(a, 200): same size -> +0x20.
 * realloc(a, 180): s=184, 16 left: no split, size 200.
 * realloc(a, 160): 40 left: split, size 160, FREE 8 at 0x20+0xa0 = +0xc0.
 * realloc(a, 100): s=104, 56 left: split, FREE 24 at 0x20+0x68 = +0x88, merged
 *   with the FREE 8 at +0xc0 (eagerly; lazily before the next search): 64.
 * malloc(64): exact fit on the merged 64 -> +0xa8.
 * realloc(a, 1): s=8, 96 left: split, FREE 64 at 0x20+8 = +0x28.
 * l=malloc(130768): exact fit on the rest -> +0x130; the prealloc is full.
 * y=malloc(1000): sbrk(1032 = 0x408): brk(+0x20408) -> +0x20020.
 * realloc(y, 8): split -> +0x20020, FREE 960 at +0x20028; no brk (never
 *   shrink the break). malloc(960): exact -> +0x20048.
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *x, *l, *y, *z;

	T_MALLOC(a, 200);
	T_MALLOC(g, 8);
	T_FILL(a, 200, 1);
	T_REALLOC(a, a, 200);
	T_CHECK(a, 200, 1);
	T_REALLOC(a, a, 180);
	T_META(a);
	T_CHECK(a, 180, 1);
	T_REALLOC(a, a, 160);
	T_META(a);
	T_META_AT(a, 160);
	T_CHECK(a, 160, 1);
	T_REALLOC(a, a, 100);
	T_CHECK(a, 100, 1);
	T_MALLOC(x, 64);
	T_META(x);
	T_REALLOC(a, a, 1);
	T_META(a);
	T_META_AT(a, 8);
	T_CHECK(a, 1, 1);
	T_MALLOC(l, 130768);
	T_MALLOC(y, 1000);
	T_FILL(y, 1000, 2);
	T_REALLOC(y, y, 8);
	T_META_AT(y, 8);
	T_CHECK(y, 8, 2);
	T_MALLOC(z, 960);
	return 0;
}
