/* SPEC rule 11.3: on a tie of sizes, the lowest address wins (whatever the
 * order the blocks were freed in).
 *   a=64: hdr +0x0 -> +0x20    g1=8: hdr +0x60 -> +0x80
 *   b=64: hdr +0x88 -> +0xa8   g2=8: hdr +0xe8 -> +0x108
 *   c=64: hdr +0x110 -> +0x130 g3=8: hdr +0x170 -> +0x190; rest +0x198
 * free c, a, b: three FREE 64s.
 * malloc(64) -> a (+0x20); malloc(50): s=56, tie b/c (64) -> b (+0xa8),
 * 8 left: no split; malloc(64) -> c (+0x130); malloc(64) -> rest: +0x1b8.
 */
#include "trace.h"

int main(void)
{
	void *a, *g1, *b, *g2, *c, *g3, *x, *y, *z, *w;

	T_MALLOC(a, 64);
	T_MALLOC(g1, 8);
	T_MALLOC(b, 64);
	T_MALLOC(g2, 8);
	T_MALLOC(c, 64);
	T_MALLOC(g3, 8);
	T_FREE(c);
	T_FREE(a);
	T_FREE(b);
	T_MALLOC(x, 64);
	T_MALLOC(y, 50);
	T_META(y);
	T_MALLOC(z, 64);
	T_MALLOC(w, 64);
	return 0;
}
