/* SPEC rules 11.4, 12, 11.5, 11.6: medium sizes.
 *   1000 (0x3e8):  hdr +0x0     -> +0x20,    rest +0x408   (130008)
 *   4000 (0xfa0):  hdr +0x408   -> +0x428,   rest +0x13c8  (125976)
 *   10000 (0x2710): hdr +0x13c8 -> +0x13e8,  rest +0x3af8  (115944)
 *   30000 (0x7530): hdr +0x3af8 -> +0x3b18,  rest +0xb048  (85912)
 *   50000 (0xc350): hdr +0xb048 -> +0xb068,  rest +0x173b8 (35880 = 0x8c28;
 *                                   0x173d8 + 0x8c28 = 0x20000, the break)
 *   60000: nothing fits; the last block (rest, 35880) is FREE -> grow by
 *     60000-35880 = 24120 = 0x5e38: brk(+0x25e38) -> +0x173d8.
 *   20000: last ALLOC -> sbrk(20032 = 0x4e40): brk(+0x2ac78), hdr +0x25e38
 *     -> +0x25e58.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e, *f, *g;

	T_MALLOC(a, 1000);
	T_MALLOC(b, 4000);
	T_MALLOC(c, 10000);
	T_MALLOC(d, 30000);
	T_MALLOC(e, 50000);
	T_MALLOC(f, 60000);
	T_MALLOC(g, 20000);
	T_FILL(a, 1000, 1);
	T_FILL(b, 4000, 2);
	T_FILL(c, 10000, 3);
	T_FILL(d, 30000, 4);
	T_FILL(e, 50000, 5);
	T_FILL(f, 60000, 6);
	T_FILL(g, 20000, 7);
	T_CHECK(a, 1000, 1);
	T_CHECK(b, 4000, 2);
	T_CHECK(c, 10000, 3);
	T_CHECK(d, 30000, 4);
	T_CHECK(e, 50000, 5);
	T_CHECK(f, 60000, 6);
	T_CHECK(g, 20000, 7);
	T_META(f);
	T_META(g);
	return 0;
}
