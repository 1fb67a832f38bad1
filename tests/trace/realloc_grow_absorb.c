/* SPEC rule 21.2, 12, 3: growing in place by absorbing the FREE next block.
 * a=100 (104): hdr +0x0 -> +0x20; b=200: hdr +0x88 -> +0xa8;
 * g=8: hdr +0x170 -> +0x190; rest +0x198. free b (200, alone).
 * realloc(a, 200): absorb b: 104+32+200 = 336 >= 200, split 136: a=200,
 *   FREE 104 at 0x20+0xc8 = +0xe8 -> +0x20.
 * realloc(a, 300): s=304, absorb +0xe8: 200+32+104 = 336, 32 left: no split,
 *   a=336 (ends at 0x20+0x150 = 0x170 = g) -> +0x20.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *g;

	T_MALLOC(a, 100);
	T_MALLOC(b, 200);
	T_MALLOC(g, 8);
	T_FILL(a, 100, 1);
	T_FREE(b);
	T_REALLOC(a, a, 200);
	T_CHECK(a, 100, 1);
	T_META(a);
	T_META_AT(a, 200);
	T_FILL(a, 200, 2);
	T_REALLOC(a, a, 300);
	T_CHECK(a, 200, 2);
	T_META(a);
	return 0;
}
