/* SPEC rules 14, 11.3, 12: a vector of calloc splits over a dirty block.
 * a=malloc(1000): +0x20; g=malloc(8): hdr +0x408 -> +0x428; a dirtied, freed.
 * Ten calloc(8, 8): each takes 0x60 of a: +0x20 + k*0x60; 40 left at +0x3c0.
 * calloc(1, 1): s=8, best fit 40, no split -> +0x3e0 (size 40).
 */
#include "trace.h"

int main(void)
{
	void *a, *g, *v0, *v1, *v2, *v3, *v4, *v5, *v6, *v7, *v8, *v9, *v10;

	T_MALLOC(a, 1000);
	T_MALLOC(g, 8);
	T_FILL(a, 1000, 1);
	T_FREE(a);
	T_CALLOC(v0, 8, 8);
	T_CALLOC(v1, 8, 8);
	T_CALLOC(v2, 8, 8);
	T_CALLOC(v3, 8, 8);
	T_CALLOC(v4, 8, 8);
	T_CALLOC(v5, 8, 8);
	T_CALLOC(v6, 8, 8);
	T_CALLOC(v7, 8, 8);
	T_CALLOC(v8, 8, 8);
	T_CALLOC(v9, 8, 8);
	T_CALLOC(v10, 1, 1);
	T_META(v10);
	return 0;
}
