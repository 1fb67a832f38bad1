/* SPEC rule 15 (NULL -> nothing), 6 (no syscall before the first heap use). */
#include "trace.h"

int main(void)
{
	void *a, *m;

	T_FREE(NULL);
	T_MALLOC(m, 200000);
	T_FREE(NULL);
	T_MALLOC(a, 16);
	T_FREE(NULL);
	T_FREE(m);
	T_FREE(NULL);
	return 0;
}
