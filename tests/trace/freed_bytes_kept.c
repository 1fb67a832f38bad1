/* SPEC rule 15a: freeing writes nothing into the freed payload, whichever
 * neighbours it merges with, and a moving os_realloc leaves the old block's
 * bytes as they were (the assignment's own tests compare them with the new
 * block's right after the call).
 * a=100: hdr +0x0 -> +0x20; b=100: hdr +0x88 -> +0xa8; rest +0x110 (130768).
 * realloc(a, 200): b is ALLOC, so a moves to the best fit, the rest: +0x130
 *   (split, rest now at +0x1f8); the old a becomes FREE: its 100 bytes stay.
 * free(a) (+0x130): merges with the rest after it; its bytes stay.
 * free(b): merges with the old a before it and the free block after it:
 *   its bytes stay, and so do the old a's.
 * malloc(100): one free block of 131040 at +0x0 is left: +0x20, split.
 */
#include "trace.h"

int main(void)
{
	void *a, *b, *c, *old;

	T_MALLOC(a, 100);
	T_MALLOC(b, 100);
	T_FILL(a, 100, 1);
	T_FILL(b, 100, 2);
	old = a;
	T_REALLOC(a, a, 200);
	T_NOTE("old a:");
	T_CHECK(old, 100, 1);
	T_NOTE("new a:");
	T_CHECK(a, 100, 1);
	T_FREE(a);
	T_CHECK(a, 100, 1);
	T_FREE(b);
	T_CHECK(b, 100, 2);
	T_NOTE("old a:");
	T_CHECK(old, 100, 1);
	T_META(old);
	T_MALLOC(c, 100);
	T_META_AT(c, 104);
	return 0;
}
