/* SPEC rules 7, 9, 15, 6: mapped sizes only. Lengths are s + 32, not rounded
 * to pages; no brk at all (no heap use); munmap(hdr, size + 32) on free.
 *   131033 -> s 131040 -> mmap(131072); 200000 -> mmap(200032);
 *   1048576 -> mmap(1048608); 500001 -> s 500008 -> mmap(500040).
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d;

	T_MALLOC(a, 131033);
	T_MALLOC(b, 200000);
	T_MALLOC(c, 1048576);
	T_MALLOC(d, 500001);
	T_FILL(a, 131033, 1);
	T_FILL(b, 200000, 2);
	T_FILL(c, 1048576, 3);
	T_FILL(d, 500001, 4);
	T_CHECK(a, 131033, 1);
	T_CHECK(b, 200000, 2);
	T_CHECK(c, 1048576, 3);
	T_CHECK(d, 500001, 4);
	T_META(d);
	T_FREE(c);
	T_FREE(a);
	T_FREE(d);
	T_FREE(b);
	return 0;
}
