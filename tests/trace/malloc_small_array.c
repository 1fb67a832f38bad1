/* SPEC rules 4, 11.1, 11.4, 12, 3: small sizes, each rounded to 8 and split
 * off the front of the preallocated block (hdr H, payload H+0x20, next H+0x20+s):
 *   n:   1    7    8    9    15   16   17   24   100   127
 *   s:   8    8    8    16   16   16   24   24   104   128
 *   H:   0   28   50   78   a8   d8  108  140   178   200
 *   ret: 20  48   70   98   c8   f8  128  160   198   220
 * rest at 0x220+0x80 = +0x2a0 (= 672 = 10*32 + 352), size 131040-672 = 130368.
 * The data check shows that no two blocks overlap.
 */
#include "trace.h"

int main(void)
{
	void *v1, *v2, *v3, *v4, *v5, *v6, *v7, *v8, *v9, *v10;

	T_MALLOC(v1, 1);
	T_MALLOC(v2, 7);
	T_MALLOC(v3, 8);
	T_MALLOC(v4, 9);
	T_MALLOC(v5, 15);
	T_MALLOC(v6, 16);
	T_MALLOC(v7, 17);
	T_MALLOC(v8, 24);
	T_MALLOC(v9, 100);
	T_MALLOC(v10, 127);
	T_FILL(v1, 8, 1);
	T_FILL(v2, 8, 2);
	T_FILL(v3, 8, 3);
	T_FILL(v4, 16, 4);
	T_FILL(v5, 16, 5);
	T_FILL(v6, 16, 6);
	T_FILL(v7, 24, 7);
	T_FILL(v8, 24, 8);
	T_FILL(v9, 104, 9);
	T_FILL(v10, 128, 10);
	T_CHECK(v1, 8, 1);
	T_CHECK(v2, 8, 2);
	T_CHECK(v3, 8, 3);
	T_CHECK(v4, 16, 4);
	T_CHECK(v5, 16, 5);
	T_CHECK(v6, 16, 6);
	T_CHECK(v7, 24, 7);
	T_CHECK(v8, 24, 8);
	T_CHECK(v9, 104, 9);
	T_CHECK(v10, 128, 10);
	T_META(v1);
	T_META(v4);
	T_META(v7);
	T_META(v9);
	T_META(v10);
	T_META_AT(v10, 128);
	return 0;
}
