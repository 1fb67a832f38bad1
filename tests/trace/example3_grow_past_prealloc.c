/* SPEC worked example 3. Rules: 11.5, 11.6, 9, 15.
 *
 * malloc(131032) takes the whole preallocated block (slack 8, no split).
 * malloc(10): s=16, nothing free, last ALLOC -> sbrk(48=0x30): brk(+0x20030),
 *   block at +0x20000 -> +0x20020. free.
 * malloc(25): s=32; FREE last block of 16 -> grow by 16: brk(+0x20040). free.
 * malloc(4000): s=4000; last FREE 32 -> grow by 3968=0xf80: brk(+0x20fc0).
 */
#include "trace.h"

int main(void)
{
	void *p, *a, *b, *c;

	T_MALLOC(p, 131032);
	T_MALLOC(a, 10);
	T_FREE(a);
	T_MALLOC(b, 25);
	T_FREE(b);
	T_MALLOC(c, 4000);
	T_META(c);
	return 0;
}
