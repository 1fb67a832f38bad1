/* SPEC rules 14, 11.1, 12, 6: calloc as the first heap use splits the only
 * block; zeroing covers t bytes.
 * calloc(10, 10): t=100, s=104 -> brk(0), brk(+0x20000) -> +0x20, FREE at
 *   0x20+0x68 = +0x88 of 131040-136 = 130904.
 * calloc(1, 8): hdr +0x88 -> +0xa8, FREE at +0xb0 of 130864.
 * calloc(1000, 4): s=4000 (0xfa0): hdr +0xb0 -> +0xd0, FREE at 0xd0+0xfa0 =
 *   +0x1070 of 130864-4032 = 126832.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c;

	T_CALLOC(a, 10, 10);
	T_META(a);
	T_META_AT(a, 104);
	T_CALLOC(b, 1, 8);
	T_CALLOC(c, 1000, 4);
	T_META_AT(c, 4000);
	return 0;
}
