/* SPEC rules 11.5, 11.6, 11.3, 12.
 * malloc(131032) takes the whole prealloc.
 * b=malloc(100): sbrk(136 = 0x88): brk(+0x20088), hdr +0x20000 -> +0x20020.
 * free b; malloc(200): last block FREE (104) -> grow by 96 = 0x60:
 *   brk(+0x200e8) -> +0x20020, size 200.
 * malloc(50): s=56, last ALLOC -> sbrk(88 = 0x58): brk(+0x20140), hdr
 *   +0x200e8 -> +0x20108.
 * free c (200, not last). malloc(300): s=304, 200 does not fit, last (d) is
 *   ALLOC -> sbrk(336 = 0x150): brk(+0x20290), hdr +0x20140 -> +0x20160.
 *   (A FREE block that is not the last one is never grown.)
 * malloc(150): s=152 fits the 200 at +0x20000: split (48) -> +0x20020, FREE 16
 *   at 0x20020+0x98 = +0x200b8. No syscall.
 * free e (last, 304); malloc(400): nothing fits (16, 304) -> grow the last by
 *   96 = 0x60: brk(+0x202f0) -> +0x20160.
 */
#include "trace.h"

int main(void)
{
	void *p, *b, *c, *d, *e, *f, *g;

	T_MALLOC(p, 131032);
	T_MALLOC(b, 100);
	T_FREE(b);
	T_MALLOC(c, 200);
	T_META(c);
	T_MALLOC(d, 50);
	T_FREE(c);
	T_MALLOC(e, 300);
	T_MALLOC(f, 150);
	T_META_AT(f, 152);
	T_FREE(e);
	T_MALLOC(g, 400);
	T_META(g);
	return 0;
}
