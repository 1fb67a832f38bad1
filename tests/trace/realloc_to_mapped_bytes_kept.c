/* SPEC rules 19 and 15a: a heap block realloc'd above the threshold moves to
 * a mapping, and the old heap block, now FREE, keeps its bytes.
 * a=1000: hdr +0x0 -> +0x20 (end +0x408); b=10: hdr +0x408 -> +0x428.
 * realloc(a, 200000): mmap(200032) = M1, payload M1+0x20; the old a is FREE
 *   (no syscall for it) with its 1000 bytes as they were.
 * free(a): munmap(M1, 200032).
 * malloc(1000): the old a is the best fit (exact): +0x20 again.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *old;

	T_MALLOC(a, 1000);
	T_MALLOC(b, 10);
	T_FILL(a, 1000, 3);
	old = a;
	T_REALLOC(a, a, 200000);
	T_NOTE("old a:");
	T_CHECK(old, 1000, 3);
	T_META(old);
	T_NOTE("new a:");
	T_CHECK(a, 1000, 3);
	T_META(a);
	T_FREE(a);
	T_NOTE("old a:");
	T_CHECK(old, 1000, 3);
	T_MALLOC(a, 1000);
	(void)b;
	return 0;
}
