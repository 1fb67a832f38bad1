/* SPEC rule 21.4, 11.3, 12: a block that cannot grow in place moves.
 * a=100: hdr +0x0 -> +0x20; b=100: hdr +0x88 -> +0xa8; rest +0x110 (130768).
 * realloc(a, 200): next (b) ALLOC, a not last -> move: best fit is the rest:
 *   hdr +0x110 -> +0x130, split (rest now at 0x130+0xc8 = +0x1f8); 104 bytes
 *   copied; the old block becomes FREE.
 * malloc(100): exact fit on the old block -> +0x20.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c;

	T_MALLOC(a, 100);
	T_MALLOC(b, 100);
	T_FILL(a, 100, 1);
	T_REALLOC(a, a, 200);
	T_CHECK(a, 100, 1);
	T_META(a);
	T_META_AT(a, 200);
	T_MALLOC(c, 100);
	return 0;
}
