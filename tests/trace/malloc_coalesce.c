/* SPEC rules 11.2, 3, 11.3, 11.5: adjacent FREE blocks merge (32 + next.size).
 * a..e = malloc(64): hdr +0x0, +0x60, +0xc0, +0x120, +0x180 -> +0x20, +0x80,
 *   +0xe0, +0x140, +0x1a0; rest +0x1e0 of 131040-480 = 130560.
 * free b, d, c: b+c+d = 3*64 + 2*32 = 256 at +0x60.
 * malloc(256): exact fit on the merged block -> +0x80.
 * free e: merges with the rest: 64+32+130560 = 130656 at +0x180.
 * malloc(130656): exact -> +0x1a0, no syscall (without merging: a brk).
 * free a, free f: a+f = 64+32+256 = 352 at +0x0. malloc(352) -> +0x20.
 * free g (last, 130656); malloc(130700): s=130704 -> grow the last FREE block
 *   by 48 = 0x30: brk(+0x20030) -> +0x1a0.
 * Meta of merged blocks is read only after a malloc (lazy = eager there).
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e, *f, *g, *h, *i;

	T_MALLOC(a, 64);
	T_MALLOC(b, 64);
	T_MALLOC(c, 64);
	T_MALLOC(d, 64);
	T_MALLOC(e, 64);
	T_FREE(b);
	T_FREE(d);
	T_FREE(c);
	T_MALLOC(f, 256);
	T_META(f);
	T_FREE(e);
	T_MALLOC(g, 130656);
	T_META(g);
	T_FREE(a);
	T_FREE(f);
	T_MALLOC(h, 352);
	T_META(h);
	T_FREE(g);
	T_MALLOC(i, 130700);
	T_META(i);
	return 0;
}
