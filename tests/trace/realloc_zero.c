/* SPEC rule 17: os_realloc(p, 0) frees p and returns NULL (15).
 * a=100: +0x20; g=8: hdr +0x88 -> +0xa8. realloc(a, 0) -> NULL, no syscall;
 * a is FREE: malloc(100) -> +0x20 again.
 * m=malloc(200000): mmap(200032); realloc(m, 0) -> munmap(M1, 200032), NULL.
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *r, *b, *m;

	T_MALLOC(a, 100);
	T_MALLOC(g, 8);
	T_REALLOC(r, a, 0);
	T_META(a);
	T_MALLOC(b, 100);
	T_MALLOC(m, 200000);
	T_REALLOC(r, m, 0);
	return 0;
}
