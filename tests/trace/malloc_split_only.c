/* SPEC rules 11.1, 12, 11.2, 11.4: splitting the only block.
 * malloc(100): the only block (131040) splits: +0x20, FREE at 0x20+0x68 =
 *   +0x88 of 131040-104-32 = 130904.
 * free a: one FREE block of 131040 again.
 * malloc(131000): 131040-131000 = 40 -> split: +0x20, FREE 8 at
 *   0x20+131000 (0x1ffb8) = +0x1ffd8.
 * malloc(8): exact fit -> +0x1fff8.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c;

	T_MALLOC(a, 100);
	T_META_AT(a, 104);
	T_FREE(a);
	T_MALLOC(b, 131000);
	T_META(b);
	T_META_AT(b, 131000);
	T_MALLOC(c, 8);
	return 0;
}
