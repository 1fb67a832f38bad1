/* SPEC rules 12, 3, 11.3: a remainder below 40 stays inside as slack.
 * a=64: hdr +0x0 -> +0x20; g=8: hdr +0x60 -> +0x80 (guard); free a (64).
 * malloc(32): 64-32 = 32 < 40: no split, size stays 64 -> +0x20.   free.
 * malloc(33): s=40, 64-40 = 24: no split, size 64 -> +0x20.        free.
 * malloc(24): 64-24 = 40 >= 40: split, size 24, FREE 8 at 0x20+0x18 = +0x38.
 * malloc(8): exact fit -> 0x38+0x20 = +0x58.
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *b, *c, *d, *e;

	T_MALLOC(a, 64);
	T_MALLOC(g, 8);
	T_FREE(a);
	T_MALLOC(b, 32);
	T_META(b);
	T_FREE(b);
	T_MALLOC(c, 33);
	T_META(c);
	T_FREE(c);
	T_MALLOC(d, 24);
	T_META(d);
	T_META_AT(d, 24);
	T_MALLOC(e, 8);
	T_META(e);
	return 0;
}
