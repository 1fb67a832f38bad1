/* SPEC rules 14, 11.5, 11.6: calloc growing the last FREE (dirty) block.
 * malloc(131032) takes the prealloc. a=malloc(100): sbrk(136): brk(+0x20088)
 *   -> +0x20020; filled, freed (last, FREE 104, dirty).
 * calloc(50, 4) = 200: grow the last by 96 = 0x60: brk(+0x200e8) -> +0x20020,
 *   all 200 bytes zero.
 * calloc(3, 1000) = 3000: last ALLOC -> sbrk(3032 = 0xbd8): brk(+0x20cc0),
 *   hdr +0x200e8 -> +0x20108.
 */
#include "trace.h"

int main(void)
{
	void *p, *a, *b, *c;

	T_MALLOC(p, 131032);
	T_MALLOC(a, 100);
	T_FILL(a, 104, 1);
	T_FREE(a);
	T_CALLOC(b, 50, 4);
	T_META(b);
	T_CALLOC(c, 3, 1000);
	return 0;
}
