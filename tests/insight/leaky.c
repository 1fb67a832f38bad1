/* Known allocations for OSMEM_STATS: 100 mallocs of 1000 bytes, 40 freed,
 * one calloc, one realloc; writes nothing through stdio. */
#include <stdlib.h>

int main(void)
{
	void *p[100];

	for (int i = 0; i < 100; i++)
		p[i] = malloc(1000);
	for (int i = 0; i < 40; i++)
		free(p[i]);
	p[0] = calloc(10, 10);
	p[0] = realloc(p[0], 5000);
	return p[0] == NULL;
}
