/* SPEC rule 18 (and 17 before it): realloc of a FREE block returns NULL and
 * nothing happens: no absorb, no mmap, no move.
 * a=100: +0x20 (104); g=8: +0xa8; free a (no FREE neighbour: stays 104).
 * realloc(a, 50 / 200 / 200000) -> NULL, no syscall; realloc(a, 0) frees a
 *   FREE block: nothing, NULL. a is still FREE with size 104.
 * malloc(100) -> +0x20.
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *r, *b;

	T_MALLOC(a, 100);
	T_MALLOC(g, 8);
	T_FREE(a);
	T_REALLOC(r, a, 50);
	T_REALLOC(r, a, 200);
	T_REALLOC(r, a, 200000);
	T_REALLOC(r, a, 0);
	T_META(a);
	T_MALLOC(b, 100);
	return 0;
}
