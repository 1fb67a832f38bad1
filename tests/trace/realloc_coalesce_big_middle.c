/* SPEC rules 21.2, 12, 3, 11.2, 21.4, 11.5: realloc of a middle block
 * absorbing a run of big merged FREE blocks, then moving.
 *   h=8:     hdr +0x0     -> +0x20,    next +0x28
 *   a=1000:  hdr +0x28    -> +0x48,    next 0x48+0x3e8 = +0x430
 *   b=60000: hdr +0x430   -> +0x450,   next 0x450+0xea60 = +0xeeb0
 *   c=60000: hdr +0xeeb0  -> +0xeed0,  next 0xeed0+0xea60 = +0x1d930
 *   g=8:     hdr +0x1d930 -> +0x1d950, rest +0x1d958 of 131040-121176 = 9864
 * free b, c: 60000+32+60000 = 120032 at +0x430.
 * realloc(a, 100000): absorb: 1000+32+120032 = 121064, split 21064: a=100000,
 *   FREE at 0x48+0x186a0 = +0x186e8 of 21032 -> +0x48.
 * realloc(a, 121064): absorb it back: 121064, exact -> +0x48.
 * realloc(a, 130000): next g ALLOC, not last -> move: nothing fits; the last
 *   block (rest, 9864) is FREE -> grow by 120136 = 0x1d548: brk(+0x3d548)
 *   -> +0x1d978. Old a (121064) FREE.
 * malloc(121064): exact -> +0x48.
 */
#include "trace.h"

int main(void)
{
	void *h, *a, *b, *c, *g, *x;

	T_MALLOC(h, 8);
	T_MALLOC(a, 1000);
	T_MALLOC(b, 60000);
	T_MALLOC(c, 60000);
	T_MALLOC(g, 8);
	T_FILL(a, 1000, 1);
	T_FREE(b);
	T_FREE(c);
	T_REALLOC(a, a, 100000);
	T_CHECK(a, 1000, 1);
	T_META_AT(a, 100000);
	T_REALLOC(a, a, 121064);
	T_CHECK(a, 1000, 1);
	T_META(a);
	T_REALLOC(a, a, 130000);
	T_CHECK(a, 1000, 1);
	T_MALLOC(x, 121064);
	return 0;
}
