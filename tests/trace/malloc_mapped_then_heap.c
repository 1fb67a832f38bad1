/* SPEC rules 6, 7, 9, 11.1, 15: mapped allocations make no brk; the first
 * sbrk(131072) comes with the first heap request, after them.
 * malloc(100): s=104, hdr +0x0 -> +0x20, rest at 0x20+0x68 = +0x88.
 * malloc(100) again: hdr +0x88 -> +0xa8.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e;

	T_MALLOC(a, 200000);
	T_MALLOC(b, 131072);
	T_FILL(a, 200000, 1);
	T_FILL(b, 131072, 2);
	T_CHECK(a, 200000, 1);
	T_FREE(a);
	T_FREE(b);
	T_MALLOC(c, 100);
	T_MALLOC(d, 131033);
	T_MALLOC(e, 100);
	T_FREE(d);
	return 0;
}
