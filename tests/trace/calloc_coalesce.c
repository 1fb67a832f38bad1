/* SPEC rules 14, 11.2, 3, 12: calloc over merged blocks (zeroing must cover
 * the old headers inside), and coalescing of big blocks.
 * a..d = malloc(1000): hdr +0x0, +0x408, +0x810, +0xc18 -> +0x20, +0x428,
 *   +0x830, +0xc38; rest +0x1020 (126912). All dirtied.
 * free b, c: 1000+32+1000 = 2032 at +0x408.
 * calloc(1, 2032): exact -> +0x428, zeroed across c's old header.
 * free a, e, d: everything merges into one FREE block of 131040 at +0x0.
 * calloc(1, 4056): split -> +0x20, rest at 0x20+0xfd8 = +0xff8 (126952).
 * g=malloc(60000): hdr +0xff8 -> +0x1018; h=malloc(60000): hdr
 *   0x1018+0xea60 = +0xfa78 -> +0xfa98; rest 0xfa98+0xea60 = +0x1e4f8.
 * Both dirtied and freed: one FREE block of 126952 at +0xff8 again.
 * calloc(1000, 4): -> +0x1018 zeroed; FREE at 0x1018+0xfa0 = +0x1fb8 of
 *   126952-4032 = 122920.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *d, *e, *f, *g, *h, *k;

	T_MALLOC(a, 1000);
	T_MALLOC(b, 1000);
	T_MALLOC(c, 1000);
	T_MALLOC(d, 1000);
	T_FILL(a, 1000, 1);
	T_FILL(b, 1000, 2);
	T_FILL(c, 1000, 3);
	T_FILL(d, 1000, 4);
	T_FREE(b);
	T_FREE(c);
	T_CALLOC(e, 1, 2032);
	T_META(e);
	T_FILL(e, 2032, 5);
	T_FREE(a);
	T_FREE(e);
	T_FREE(d);
	T_CALLOC(f, 1, 4056);
	T_META_AT(f, 4056);
	T_MALLOC(g, 60000);
	T_MALLOC(h, 60000);
	T_FILL(g, 60000, 6);
	T_FILL(h, 60000, 7);
	T_FREE(g);
	T_FREE(h);
	T_CALLOC(k, 1000, 4);
	T_META_AT(k, 4000);
	return 0;
}
