/* SPEC rules 11.2, 3, 12, 11.5, 11.6: coalescing big blocks.
 *   a=60000 (0xea60): hdr +0x0 -> +0x20, next +0xea80
 *   b=60000: hdr +0xea80 -> +0xeaa0, next +0x1d500
 *   c=8: hdr +0x1d500 -> +0x1d520, rest +0x1d528 of 131040-120064-40 = 10936
 *     (0x1d548 + 10936 (0x2ab8) = 0x20000)
 * free a, b: 60000+32+60000 = 120032 at +0x0.
 * malloc(120000): fits only the merged block, 32 < 40: no split -> +0x20,
 *   size 120032.
 * d=malloc(100000) (0x186a0): nothing fits; the last block (rest, 10936) is
 *   FREE -> grow by 89064 = 0x15be8: brk(+0x35be8) -> +0x1d548.
 * e=malloc(100000): last ALLOC -> sbrk(100032 = 0x186c0): brk(+0x4e2a8),
 *   hdr +0x35be8 -> +0x35c08.
 * free d, e: 100000+32+100000 = 200032 at +0x1d528.
 * malloc(131000): best fit 200032, split -> +0x1d548, FREE at
 *   0x1d548+0x1ffb8 = +0x3d500 of 200032-131000-32 = 69000.
 * malloc(69000): exact -> +0x3d520. No syscall.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *x, *d, *e, *y, *z;

	T_MALLOC(a, 60000);
	T_MALLOC(b, 60000);
	T_MALLOC(c, 8);
	T_FILL(c, 8, 3);
	T_FREE(a);
	T_FREE(b);
	T_MALLOC(x, 120000);
	T_META(x);
	T_MALLOC(d, 100000);
	T_MALLOC(e, 100000);
	T_FREE(d);
	T_FREE(e);
	T_MALLOC(y, 131000);
	T_META_AT(y, 131000);
	T_MALLOC(z, 69000);
	T_META(z);
	T_CHECK(c, 8, 3);
	return 0;
}
