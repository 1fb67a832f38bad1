/* SPEC rules 11.3, 12, 3: a vector of splits carving one FREE block.
 * a=1000: hdr +0x0 -> +0x20; g=8: hdr +0x408 -> +0x428; rest +0x430
 * (129968). free a (1000).
 * Ten malloc(64): best fit is always what is left of a (smaller than the
 * rest); each takes 32+64 = 0x60: v_k = +0x20 + k*0x60, leaving
 * 1000 - 10*96 = 40 at +0x3c0.
 * malloc(8): best fit 40, 40-8 = 32 < 40: no split -> +0x3e0, size 40.
 * malloc(64): only the rest fits -> 0x430+0x20 = +0x450.
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *v0, *v1, *v2, *v3, *v4, *v5, *v6, *v7, *v8, *v9, *v10, *v11;

	T_MALLOC(a, 1000);
	T_MALLOC(g, 8);
	T_FREE(a);
	T_MALLOC(v0, 64);
	T_MALLOC(v1, 64);
	T_MALLOC(v2, 64);
	T_MALLOC(v3, 64);
	T_MALLOC(v4, 64);
	T_MALLOC(v5, 64);
	T_MALLOC(v6, 64);
	T_MALLOC(v7, 64);
	T_MALLOC(v8, 64);
	T_MALLOC(v9, 64);
	T_META_AT(v9, 64);
	T_MALLOC(v10, 8);
	T_META(v10);
	T_MALLOC(v11, 64);
	return 0;
}
