/* SPEC rule 13, 6: nmemb or size 0 -> NULL, no syscall; nmemb * size
 * overflowing -> NULL, errno ENOMEM, no syscall. The first brk only comes
 * with calloc(1, 1) (s = 8, the only block splits -> +0x20).
 */
#include "trace.h"

int main(void)
{
	void *p;

	T_CALLOC(p, 0, 10);
	T_CALLOC(p, 10, 0);
	T_CALLOC(p, 0, 0);
	T_ERRNO_CLEAR();
	T_CALLOC(p, SIZE_MAX, 2);
	T_ERRNO();
	T_ERRNO_CLEAR();
	T_CALLOC(p, (SIZE_MAX / 2) + 1, 2);
	T_ERRNO();
	T_ERRNO_CLEAR();
	T_CALLOC(p, (size_t)1 << 32, (size_t)1 << 32);
	T_ERRNO();
	T_CALLOC(p, 1, 1);
	return 0;
}
