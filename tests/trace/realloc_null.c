/* SPEC rule 16: os_realloc(NULL, n) is exactly os_malloc(n) (8, 9, 11).
 * realloc(NULL, 0) -> NULL, no syscall; realloc(NULL, 200000) -> mmap(200032);
 * realloc(NULL, 100): first heap use -> +0x20, rest +0x88 (130904).
 * realloc(NULL, 131032): nothing fits; the last block (rest) is FREE -> grow
 *   by 131032-130904 = 128 = 0x80: brk(+0x20080) -> +0xa8.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d;

	T_REALLOC(a, NULL, 0);
	T_REALLOC(b, NULL, 200000);
	T_META(b);
	T_REALLOC(c, NULL, 100);
	T_META(c);
	T_REALLOC(d, NULL, 131032);
	T_META(d);
	T_FREE(b);
	return 0;
}
