/* SPEC rules 14, 11.3, 12, 3: calloc splitting the only, first and last block,
 * and not splitting a middle one (remainder < 40); reused memory is dirty.
 *   a=calloc(1,100): only block splits: hdr +0x0 -> +0x20, rest +0x88 (130904)
 *   g1=calloc(1,8): hdr +0x88 -> +0xa8, rest +0xb0 (130864)
 *   b=calloc(1,200): hdr +0xb0 -> +0xd0, rest 0xd0+0xc8 = +0x198 (130632)
 *   g2=calloc(1,8): hdr +0x198 -> +0x1b8, rest +0x1c0 (130592)
 *   z=malloc(130560): 32 left, no split: size 130592 -> +0x1e0, heap full.
 * a, b, z dirtied and freed.
 * calloc(1, 60): s=64, best fit a (104): 40 -> split -> +0x20, FREE 8 at +0x60.
 * calloc(1, 176): 8 too small; b (200): 24 left, no split -> +0xd0, size 200.
 * calloc(1, 4000): z: split -> +0x1e0, FREE at 0x1e0+0xfa0 = +0x1180 of
 *   130592-4032 = 126560.
 * calloc(2, 4): exact fit on the 8 at +0x60 -> +0x80.
 */
#include "trace.h"

int main(void)
{
	void *a, *g1, *b, *g2, *z, *c, *d, *e, *f;

	T_CALLOC(a, 1, 100);
	T_META_AT(a, 104);
	T_CALLOC(g1, 1, 8);
	T_CALLOC(b, 1, 200);
	T_CALLOC(g2, 1, 8);
	T_MALLOC(z, 130560);
	T_META(z);
	T_FILL(a, 104, 1);
	T_FILL(b, 200, 2);
	T_FILL(z, 130592, 3);
	T_FREE(a);
	T_FREE(b);
	T_FREE(z);
	T_CALLOC(c, 1, 60);
	T_META_AT(c, 64);
	T_CALLOC(d, 1, 176);
	T_META(d);
	T_CALLOC(e, 1, 4000);
	T_META_AT(e, 4000);
	T_CALLOC(f, 2, 4);
	return 0;
}
