/* SPEC rules 8, 6: os_malloc(0) is NULL with no syscall, before and after the
 * first heap use; the first brk comes with the first real heap request. */
#include "trace.h"

int main(void)
{
	void *z, *a;

	T_MALLOC(z, 0);
	T_MALLOC(a, 8);
	T_MALLOC(z, 0);
	return 0;
}
