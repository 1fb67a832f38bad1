/* SPEC rules 11.3, 11.4, 12: splitting the first, a middle and the last block.
 *   x=200 (0xc8):  hdr +0x0   -> +0x20,  next +0xe8
 *   g1=8:          hdr +0xe8  -> +0x108, next +0x110
 *   y=300 (s 304 = 0x130): hdr +0x110 -> +0x130, next +0x260
 *   g2=8:          hdr +0x260 -> +0x280, rest +0x288 of 131040-648 = 130392
 *   z=130360: 130392-130360 = 32 < 40: takes the whole rest (size 130392),
 *     -> +0x2a8; z is the last block, the prealloc is full.
 * free x, y, z: FREE 200 (first), 304 (middle), 130392 (last).
 * malloc(100): best fit x: split 96 -> +0x20, FREE 64 at 0x20+0x68 = +0x88.
 * malloc(200): 64 too small; best y: split 104 -> +0x130, FREE 72 at
 *   0x130+0xc8 = +0x1f8.
 * malloc(1000): best z: split -> +0x2a8, FREE at 0x2a8+0x3e8 = +0x690 of
 *   130392-1032 = 129360. No syscall anywhere after the first.
 */
#include "trace.h"

int main(void)
{
	void *x, *g1, *y, *g2, *z, *m1, *m2, *m3;

	T_MALLOC(x, 200);
	T_MALLOC(g1, 8);
	T_MALLOC(y, 300);
	T_MALLOC(g2, 8);
	T_MALLOC(z, 130360);
	T_META(z);
	T_FREE(x);
	T_FREE(y);
	T_FREE(z);
	T_MALLOC(m1, 100);
	T_META(m1);
	T_META_AT(m1, 104);
	T_MALLOC(m2, 200);
	T_META(m2);
	T_META_AT(m2, 200);
	T_MALLOC(m3, 1000);
	T_META(m3);
	T_META_AT(m3, 1000);
	return 0;
}
