/* Everything mixed: SPEC rules 7, 9, 11.1-11.6, 12, 14, 15, 16, 19, 20, 21.2,
 * 21.4. Offsets (hdr -> payload):
 *  1 m1=calloc(2000,3): t=6000 >= page -> mmap(6032)=M1.
 *  2 a=malloc(5000) (0x1388): first use; hdr 0 -> +0x20; rest +0x13a8 (126008)
 *  3 b=calloc(100,3): s=304 (0x130): hdr +0x13a8 -> +0x13c8; rest +0x14f8
 *  4 c=realloc(NULL,700): s=704 (0x2c0): hdr +0x14f8 -> +0x1518; rest +0x17d8
 *    (124936)
 *  6 free a (5000 FREE at 0).
 *  7 d=malloc(4000): best fit a: split 1000 -> +0x20; FREE 968 at
 *    0x20+0xfa0 = +0xfc0.
 *  8 realloc(b,2000): next c ALLOC -> move; best fit the rest: hdr +0x17d8 ->
 *    +0x17f8; rest +0x1fc8 (122904). Old b (304) FREE, merges with the 968
 *    before it (0xfe0+0x3c8 = 0x13a8): 968+32+304 = 1304 at +0xfc0.
 *  9 e=calloc(1,1300): s=1304 exact -> +0xfe0.
 * 10 realloc(m1,100): mapped -> malloc(100): rest: hdr +0x1fc8 -> +0x1fe8,
 *    rest +0x2050 (122768); then munmap(M1, 6032).
 * 11 free c (704 at +0x14f8; e before it, b2 after it, both ALLOC).
 * 12 realloc(e,2100): s=2104; absorb c: 1304+32+704 = 2040 < 2104; next b2
 *    ALLOC -> move: best fit the rest: hdr +0x2050 -> +0x2070; rest +0x28a8
 *    (120632). Old e (2040) FREE at +0xfc0.
 * 13 g=malloc(131000): 2040 and 120632 too small; the last block (rest) FREE
 *    -> grow by 131000-120632 = 10368 = 0x2880: brk(+0x22880) -> +0x28c8.
 * 14 h=malloc(2000): best fit 2040, 40 left: split -> +0xfe0; FREE 8 at
 *    0xfe0+0x7d0 = +0x17b0.
 * 15 free d (4000 at 0), 16 free g (131000, last).
 * 17 realloc(h,3000): absorb the 8: 2040 < 3000; next b2 ALLOC -> move: best
 *    fit d (4000) over g (131000): split 1000 -> +0x20, FREE 968 at +0xbd8;
 *    old h (2040) freed and merged with it: 968+32+2040 = 3040 at +0xbd8.
 * 18 j=malloc(131032): 3040, 131000 too small; last (g) FREE -> grow by 32:
 *    brk(+0x228a0) -> +0x28c8.
 * 19 k=malloc(131072): mmap(131104)=M2; 20 free k -> munmap(M2, 131104).
 * 21 l=calloc(3,1000): s=3000, best fit 3040, 40 left: split -> +0xbf8.
 */
#include "trace.h"

int main(void)
{
	void *m1, *a, *b, *c, *d, *e, *f, *g, *h, *i, *j, *k, *l;

	T_CALLOC(m1, 2000, 3);
	T_FILL(m1, 6000, 9);
	T_MALLOC(a, 5000);
	T_CALLOC(b, 100, 3);
	T_REALLOC(c, NULL, 700);
	T_FILL(a, 5000, 1);
	T_FILL(b, 300, 2);
	T_FILL(c, 700, 3);
	T_FREE(a);
	T_MALLOC(d, 4000);
	T_FILL(d, 4000, 4);
	T_REALLOC(b, b, 2000);
	T_CHECK(b, 300, 2);
	T_CALLOC(e, 1, 1300);
	T_FILL(e, 1300, 5);
	T_REALLOC(m1, m1, 100);
	T_CHECK(m1, 100, 9);
	T_CHECK(c, 700, 3);
	T_FREE(c);
	T_REALLOC(f, e, 2100);
	T_CHECK(f, 1300, 5);
	T_MALLOC(g, 131000);
	T_MALLOC(h, 2000);
	T_FILL(h, 2000, 6);
	T_FREE(d);
	T_FREE(g);
	T_REALLOC(i, h, 3000);
	T_CHECK(i, 2000, 6);
	T_MALLOC(j, 131032);
	T_MALLOC(k, 131072);
	T_FREE(k);
	T_CALLOC(l, 3, 1000);
	T_META_AT(l, 3000);
	T_CHECK(b, 300, 2);
	T_CHECK(m1, 100, 9);
	T_CHECK(f, 1300, 5);
	T_CHECK(i, 2000, 6);
	return 0;
}
