/* SPEC rule 15: freeing a FREE block does nothing (no syscall, heap intact).
 * a=100: hdr +0x0 -> +0x20 (104); g=8: hdr +0x88 -> +0xa8; rest +0xb0.
 * free a twice: a stays FREE, size 104 (no FREE neighbour to merge with).
 * malloc(100) -> +0x20 again. free b twice.
 * malloc(50): s=56, best fit 104 (vs the rest), split 48: -> +0x20, FREE 16
 *   at 0x20+0x38 = +0x58. malloc(16) -> exact -> +0x78.
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *b, *c, *d;

	T_MALLOC(a, 100);
	T_MALLOC(g, 8);
	T_FREE(a);
	T_FREE(a);
	T_META(a);
	T_MALLOC(b, 100);
	T_META(b);
	T_FREE(b);
	T_FREE(b);
	T_MALLOC(c, 50);
	T_MALLOC(d, 16);
	return 0;
}
