/* SPEC rules 14, 11.3, 12, 3: calloc reusing dirty freed memory must zero it.
 * a=malloc(200): hdr +0x0 -> +0x20; g=malloc(8): hdr +0xe8 -> +0x108.
 * a filled with non-zero bytes, freed.
 * calloc(25, 8) = 200: exact fit -> +0x20 (zeroed). Dirtied, freed.
 * calloc(1, 170): s=176, 24 left: no split, size 200 -> +0x20. Dirtied, freed.
 * calloc(10, 10): s=104, split 96 -> +0x20, FREE 64 at 0x20+0x68 = +0x88
 *   (dirty).
 * calloc(8, 8) = 64: exact fit on it -> 0x88+0x20 = +0xa8 (zeroed).
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *b, *c, *d, *e;

	T_MALLOC(a, 200);
	T_MALLOC(g, 8);
	T_FILL(a, 200, 1);
	T_FREE(a);
	T_CALLOC(b, 25, 8);
	T_FILL(b, 200, 2);
	T_FREE(b);
	T_CALLOC(c, 1, 170);
	T_META(c);
	T_FILL(c, 200, 3);
	T_FREE(c);
	T_CALLOC(d, 10, 10);
	T_META_AT(d, 104);
	T_CALLOC(e, 8, 8);
	return 0;
}
