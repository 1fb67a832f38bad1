/* SPEC rule 21.2 (absorbed blocks stay absorbed) and 21.4 (the heap search
 * runs while the old block is still ALLOC, the old block is freed after).
 *   p=64: hdr +0x0 -> +0x20       a=64: hdr +0x60 -> +0x80
 *   q=8:  hdr +0xc0 -> +0xe0      g=8:  hdr +0xe8 -> +0x108; rest +0x110
 * free p, q.
 * realloc(a, 120): absorb q: 64+32+8 = 104 < 120; next g ALLOC, not last ->
 *   move. Search with a ALLOC: p (64) too small, the rest fits -> +0x130.
 *   (Freeing a first would merge p+a = 64+32+104 = 200 and return +0x20.)
 *   Then a (now 104) is freed and merges with p: 200 at +0x0.
 * malloc(200): exact fit -> +0x20.
 */
#include "trace.h"

int main(void)
{
	void *p, *a, *q, *g, *x;

	T_MALLOC(p, 64);
	T_MALLOC(a, 64);
	T_MALLOC(q, 8);
	T_MALLOC(g, 8);
	T_FILL(a, 64, 1);
	T_FREE(p);
	T_FREE(q);
	T_REALLOC(a, a, 120);
	T_CHECK(a, 64, 1);
	T_MALLOC(x, 200);
	T_META(x);
	return 0;
}
