/* SPEC rule 21.3 (and 21.2): absorbing every block up to the end of the heap
 * makes the block the last one, then it grows with sbrk(s - size).
 * malloc(131032) takes the prealloc; b=100: brk(+0x20088) -> +0x20020;
 * c=100: sbrk(136): brk(+0x20110) -> +0x200a8. free c (last, 104).
 * realloc(b, 500): s=504; absorb c: 104+32+104 = 240 < 504; b is now last:
 *   sbrk(504-240 = 264 = 0x108): brk(+0x20218) -> +0x20020.
 */
#include "trace.h"

int main(void)
{
	void *p, *b, *c;

	T_MALLOC(p, 131032);
	T_MALLOC(b, 100);
	T_MALLOC(c, 100);
	T_FILL(b, 100, 1);
	T_FREE(c);
	T_REALLOC(b, b, 500);
	T_CHECK(b, 100, 1);
	T_META(b);
	return 0;
}
