/* SPEC worked example 4. Rules: 21.2, 20, 12, 11.2, 11.3, 3.
 *
 * Layout after the preallocated block is freed and a..d are taken from it
 * (see example1): a hdr +0x0 (16), b hdr +0x30 (32), c hdr +0x70 (40),
 * d hdr +0xb8 (80), rest at +0x128.
 * free b, free c. EAGER merging (what this core does, rule 11.2): b+c become
 * one FREE block at +0x30 of 32+32+40 = 104. (Lazily they stay 32 and 40.)
 * realloc(a, 56): a not last; next FREE -> absorb. Eager: 16+32+104 = 152,
 *   split 152-56 = 96 -> a=56, free at 0x20+0x38 = +0x58 (64). Lazy (SPEC's
 *   text): absorbs b only, 80, remainder 24 not split. Either way -> +0x20.
 * realloc(a, 100): s=104. Eager: absorb +0x58 (64): 56+32+64 = 152; lazy:
 *   absorb c: 80+32+40 = 152. Both: split 48 -> a=104, free at 0x20+0x68 =
 *   +0x88 of 16. Same state from here on -> +0x20.
 * realloc(a, 20): s=24; 104-24 = 80 >= 40: split, a=24, free at 0x20+0x18 =
 *   +0x38 of 48 (eagerly merged with +0x88 at once: 48+32+16 = 96) -> +0x20.
 * malloc(8): FREE blocks +0x38 (96, after merging) and +0x128 (130744): best
 *   fit +0x38 -> 0x38+0x20 = +0x58, split (96-8 = 88).
 * The meta notes are only read where lazy and eager agree.
 */
#include "trace.h"

int main(void)
{
	void *p, *a, *b, *c, *d, *e;

	T_MALLOC(p, 131032);
	T_FREE(p);
	T_MALLOC(a, 10);
	T_MALLOC(b, 25);
	T_MALLOC(c, 40);
	T_MALLOC(d, 80);
	T_FILL(a, 16, 1);
	T_FREE(b);
	T_FREE(c);
	T_REALLOC(a, a, 56);
	T_CHECK(a, 16, 1);
	T_REALLOC(a, a, 100);
	T_CHECK(a, 16, 1);
	T_META(a);
	T_REALLOC(a, a, 20);
	T_CHECK(a, 16, 1);
	T_META(a);
	T_MALLOC(e, 8);
	T_META(e);
	T_CHECK(a, 16, 1);
	return 0;
}
