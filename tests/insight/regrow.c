/* Mapped blocks for OSMEM_STATS' peak of mapped bytes: a 200000-byte block
 * grown by realloc to 200100 bytes within its pages, freed, then a
 * 300000-byte block, freed. The peak is the larger block with its header:
 * the growth in place must be counted when it happens and when the block
 * goes. Writes nothing through stdio. */
#include <stdlib.h>

int main(void)
{
	char *p = malloc(200000);

	if (!p)
		return 1;
	p[0] = 1;
	p = realloc(p, 200100);
	if (!p)
		return 1;
	p[200099] = 1;
	free(p);
	p = malloc(300000);
	if (!p)
		return 1;
	p[299999] = 1;
	free(p);
	return 0;
}
