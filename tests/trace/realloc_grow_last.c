/* SPEC rule 21.1, 3: growing the last heap block with sbrk(s - size).
 * malloc(131032) takes the prealloc; b=malloc(100): brk(+0x20088) -> +0x20020.
 * realloc(b, 1000): last -> sbrk(1000-104 = 896 = 0x380): brk(+0x20408).
 * realloc(b, 1001): s=1008 -> sbrk(8): brk(+0x20410).
 * realloc(b, 131032): s+32 < 131072: heap; sbrk(131032-1008 = 130024 =
 *   0x1fbe8): brk(+0x3fff8) (= 0x20020 + 131032).
 */
#include "trace.h"

int main(void)
{
	void *p, *b;

	T_MALLOC(p, 131032);
	T_MALLOC(b, 100);
	T_FILL(b, 100, 1);
	T_REALLOC(b, b, 1000);
	T_CHECK(b, 100, 1);
	T_META(b);
	T_REALLOC(b, b, 1001);
	T_CHECK(b, 100, 1);
	T_META(b);
	T_REALLOC(b, b, 131032);
	T_CHECK(b, 100, 1);
	T_META(b);
	return 0;
}
