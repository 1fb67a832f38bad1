/* SPEC worked example 1. Rules: 6, 9, 11.1, 11.3, 11.4, 12, 3, 15.
 *
 * os_malloc(131032): s = 131032, s + 32 = 131064 < 131072 -> heap. First heap
 * use: sbrk(131072) (brk(0), brk(+0x20000)), one FREE block at +0x0 of size
 * 131040. 131040 - 131032 = 8 < 40: no split, the block keeps size 131040.
 * After os_free the whole block is FREE again; then, each split from it:
 *   malloc(10): s=16 hdr +0x0   -> +0x20, rest at 0x20+0x10 = +0x30
 *   malloc(25): s=32 hdr +0x30  -> +0x50, rest at 0x50+0x20 = +0x70
 *   malloc(40): s=40 hdr +0x70  -> +0x90, rest at 0x90+0x28 = +0xb8
 *   malloc(80): s=80 hdr +0xb8  -> +0xd8, rest at 0xd8+0x50 = +0x128
 *     (rest size 131040 - 48 - 64 - 72 - 112 = 130744)
 */
#include "trace.h"

int main(void)
{
	void *p, *a, *b, *c, *d;

	T_MALLOC(p, 131032);
	T_META(p);
	T_FREE(p);
	T_MALLOC(a, 10);
	T_MALLOC(b, 25);
	T_MALLOC(c, 40);
	T_MALLOC(d, 80);
	T_META(a);
	T_META(b);
	T_META(c);
	T_META(d);
	T_META_AT(d, 80);
	return 0;
}
