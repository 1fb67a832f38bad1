/* SPEC worked example 5. Rules: 7, 9, 19, 6, 11.1, 2, 1.
 *
 * malloc(200000): s=200000 -> mmap(200032) = M1 -> M1+0x20 (status MAPPED).
 * realloc(m, 150000): mapped -> new block as os_malloc(150000): mmap(150032)
 *   = M2 first, copy 150000 bytes, then munmap(M1, 200032).
 * realloc(m, 3000): s=3000, 3032 < 131072 -> heap; the first heap use:
 *   brk(0), brk(+0x20000), -> +0x20; copy 3000 bytes; then munmap(M2, 150032).
 */
#include "trace.h"

int main(void)
{
	void *m;

	T_MALLOC(m, 200000);
	T_META(m);
	T_FILL(m, 200000, 5);
	T_REALLOC(m, m, 150000);
	T_CHECK(m, 150000, 5);
	T_META(m);
	T_REALLOC(m, m, 3000);
	T_CHECK(m, 3000, 5);
	T_META(m);
	return 0;
}
