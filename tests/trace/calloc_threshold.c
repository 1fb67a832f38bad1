/* SPEC rule 14 (threshold is the PAGE, 4096, not 128 KiB), 7, 6, 15, 9.
 * calloc(4080, 1): s+32 = 4112 >= 4096 -> mmap(4112), before any brk.
 * calloc(1986, 2): t=3972, s=3976 (0xf88), 4008 < 4096 -> heap, first use:
 *   brk(0), brk(+0x20000) -> +0x20, next hdr 0x20+0xf88 = +0xfa8.
 * calloc(4056, 1): s+32 = 4088 -> heap (largest) -> +0xfc8, next
 *   0xfc8+0xfd8 = +0x1fa0.
 * calloc(4057, 1): s=4064, 4096 >= 4096 -> mmap(4096).
 * calloc(2, 2032): t=4064 -> mmap(4096).
 * calloc(1, 4049): s=4056 -> heap -> +0x1fc0, next 0x1fc0+0xfd8 = +0x2f98.
 * calloc(100000, 1): mmap(100032) although malloc(100000) is a heap block:
 * malloc(100000) -> +0x2fb8.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e, *f, *h, *k;

	T_CALLOC(a, 4080, 1);
	T_META(a);
	T_CALLOC(b, 1986, 2);
	T_META(b);
	T_CALLOC(c, 4056, 1);
	T_META(c);
	T_CALLOC(d, 4057, 1);
	T_CALLOC(e, 2, 2032);
	T_CALLOC(f, 1, 4049);
	T_CALLOC(h, 100000, 1);
	T_MALLOC(k, 100000);
	T_FREE(a);
	T_FREE(d);
	T_FREE(e);
	T_FREE(h);
	T_FREE(k);
	return 0;
}
