/* Frees one block twice; under OSMEM_ABORT_ON_ERROR=0 it goes on. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char *volatile p = malloc(3000);
	char *volatile q = malloc(3000);   /* keeps p from merging into the top */

	printf("%p\n", (void *)p);
	fflush(stdout);
	free(p);
	free(p);
	free(q);
	return 0;
}
