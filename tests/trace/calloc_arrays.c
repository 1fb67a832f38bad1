/* SPEC rules 14, 4, 7, 11.4, 12: arrays of small, medium and large callocs.
 *   calloc      t      s     hdr     ret      next hdr
 *   (1,1)       1      8     0x0     +0x20    0x28
 *   (3,3)       9      16    0x28    +0x48    0x58
 *   (5,5)       25     32    0x58    +0x78    0x98
 *   (7,8)       56     56    0x98    +0xb8    0xf0
 *   (10,10)     100    104   0xf0    +0x110   0x178
 *   (100,10)    1000   1000  0x178   +0x198   0x580
 *   (40,100)    4000   4000  0x580   +0x5a0   0x1540
 *   (1,4056)    4056   4056  0x1540  +0x1560  0x2538
 *   (1024,4)    4096 -> mmap(4128); (1000,1000) -> mmap(1000032);
 *   (50000,4)   200000 -> mmap(200032).
 */
#include "trace.h"

int main(void)
{
	void *s1, *s2, *s3, *s4, *s5, *m1, *m2, *m3, *l1, *l2, *l3;

	T_CALLOC(s1, 1, 1);
	T_CALLOC(s2, 3, 3);
	T_CALLOC(s3, 5, 5);
	T_CALLOC(s4, 7, 8);
	T_CALLOC(s5, 10, 10);
	T_CALLOC(m1, 100, 10);
	T_CALLOC(m2, 40, 100);
	T_CALLOC(m3, 1, 4056);
	T_CALLOC(l1, 1024, 4);
	T_CALLOC(l2, 1000, 1000);
	T_CALLOC(l3, 50000, 4);
	T_META(s2);
	T_META(m3);
	T_META(l1);
	T_FREE(l2);
	T_FREE(l1);
	T_FREE(l3);
	return 0;
}
