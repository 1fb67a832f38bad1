/* SPEC rules 11.1, 12, 3, 11.2, 9.
 * malloc(8): first use, the 131040 block splits: hdr +0x0 size 8 -> +0x20,
 *   rest at 0x20+8 = +0x28 of 131040-8-32 = 131000.
 * malloc(16): hdr +0x28 -> +0x48, rest at 0x48+0x10 = +0x58 (130952).
 * free both: everything merges back into one FREE block of 131040 at +0x0.
 * malloc(131032) -> +0x20, no syscall (no second sbrk: "never again").
 * malloc(131040): s+32 = 131072 -> mapped even though a FREE block of 131040
 *   exists.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e;

	T_MALLOC(a, 8);
	T_META(a);
	T_META_AT(a, 8);
	T_MALLOC(b, 16);
	T_META_AT(b, 16);
	T_FREE(a);
	T_FREE(b);
	T_MALLOC(c, 131032);
	T_META(c);
	T_FREE(c);
	T_MALLOC(d, 131032);
	T_FREE(d);
	T_MALLOC(e, 131040);
	T_FREE(e);
	return 0;
}
