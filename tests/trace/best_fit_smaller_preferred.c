/* SPEC rule 11.3, 12: the smallest fitting block wins over a lower-address
 * larger one (and over the big rest).
 *   x=200 (0xc8): hdr +0x0 -> +0x20      g1=8: hdr +0xe8 -> +0x108
 *   y=100 (s 104 = 0x68): hdr +0x110 -> +0x130
 *   g2=8: hdr +0x198 -> +0x1b8; rest +0x1c0
 * free x, y.
 * malloc(96): fits x (200), y (104), rest: smallest is y -> +0x130 (8 left,
 *   no split, size 104).
 * malloc(150): s=152, only x (and the rest) fit -> +0x20, split 48: FREE 16
 *   at 0x20+0x98 = +0xb8.
 * malloc(16): the 16 is the best fit -> 0xb8+0x20 = +0xd8.
 * malloc(24): only the rest -> 0x1c0+0x20 = +0x1e0.
 */
#include "trace.h"

int main(void)
{
	void *x, *g1, *y, *g2, *a, *b, *c, *d;

	T_MALLOC(x, 200);
	T_MALLOC(g1, 8);
	T_MALLOC(y, 100);
	T_MALLOC(g2, 8);
	T_FREE(x);
	T_FREE(y);
	T_MALLOC(a, 96);
	T_META(a);
	T_MALLOC(b, 150);
	T_META_AT(b, 152);
	T_MALLOC(c, 16);
	T_MALLOC(d, 24);
	return 0;
}
